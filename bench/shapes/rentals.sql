-- Rentals (bench/shapes.py): MySQL's Sakila sample schema, at about 1,060,000 rows. Stores own their
-- staff, customers and inventory; a customer owns its rentals and payments. Store and staff
-- reference each other, both NOT NULL (a cycle no NULL breaks); 5% of the rentals are of another
-- store's inventory, by that store's staff (references across tenants); the catalog (films,
-- actors, categories, places) is copied whole. Store 1 holds a fifth of the customers and
-- inventory. MariaDB (its seq_ tables).
CREATE TABLE language (language_id TINYINT UNSIGNED PRIMARY KEY, name CHAR(20) NOT NULL,
  last_update TIMESTAMP NOT NULL DEFAULT '2006-02-15 05:02:19');
CREATE TABLE country (country_id SMALLINT UNSIGNED PRIMARY KEY, country VARCHAR(50) NOT NULL,
  last_update TIMESTAMP NOT NULL DEFAULT '2006-02-15 04:44:00');
CREATE TABLE city (city_id SMALLINT UNSIGNED PRIMARY KEY, city VARCHAR(50) NOT NULL, country_id SMALLINT UNSIGNED NOT NULL,
  last_update TIMESTAMP NOT NULL DEFAULT '2006-02-15 04:45:25', FOREIGN KEY (country_id) REFERENCES country (country_id));
CREATE TABLE address (address_id INT UNSIGNED PRIMARY KEY, address VARCHAR(50) NOT NULL, address2 VARCHAR(50) NULL,
  district VARCHAR(20) NOT NULL, city_id SMALLINT UNSIGNED NOT NULL, postal_code VARCHAR(10) NULL, phone VARCHAR(20) NOT NULL,
  last_update TIMESTAMP NOT NULL DEFAULT '2014-09-25 22:30:27', FOREIGN KEY (city_id) REFERENCES city (city_id));
CREATE TABLE category (category_id TINYINT UNSIGNED PRIMARY KEY, name VARCHAR(25) NOT NULL,
  last_update TIMESTAMP NOT NULL DEFAULT '2006-02-15 04:46:27');
CREATE TABLE actor (actor_id SMALLINT UNSIGNED PRIMARY KEY, first_name VARCHAR(45) NOT NULL, last_name VARCHAR(45) NOT NULL,
  last_update TIMESTAMP NOT NULL DEFAULT '2006-02-15 04:34:33', KEY idx_actor_last_name (last_name));
CREATE TABLE film (film_id SMALLINT UNSIGNED PRIMARY KEY, title VARCHAR(128) NOT NULL, description TEXT,
  release_year YEAR, language_id TINYINT UNSIGNED NOT NULL, rental_duration TINYINT UNSIGNED NOT NULL DEFAULT 3,
  rental_rate DECIMAL(4,2) NOT NULL DEFAULT 4.99, length SMALLINT UNSIGNED, replacement_cost DECIMAL(5,2) NOT NULL,
  rating ENUM('G','PG','PG-13','R','NC-17') DEFAULT 'G',
  special_features SET('Trailers','Commentaries','Deleted Scenes','Behind the Scenes'),
  last_update TIMESTAMP NOT NULL DEFAULT '2006-02-15 05:03:42', KEY idx_title (title),
  FOREIGN KEY (language_id) REFERENCES language (language_id));
CREATE TABLE film_actor (actor_id SMALLINT UNSIGNED NOT NULL, film_id SMALLINT UNSIGNED NOT NULL,
  last_update TIMESTAMP NOT NULL DEFAULT '2006-02-15 05:05:03', PRIMARY KEY (actor_id, film_id),
  FOREIGN KEY (actor_id) REFERENCES actor (actor_id), FOREIGN KEY (film_id) REFERENCES film (film_id));
CREATE TABLE film_category (film_id SMALLINT UNSIGNED NOT NULL, category_id TINYINT UNSIGNED NOT NULL,
  last_update TIMESTAMP NOT NULL DEFAULT '2006-02-15 05:07:09', PRIMARY KEY (film_id, category_id),
  FOREIGN KEY (film_id) REFERENCES film (film_id), FOREIGN KEY (category_id) REFERENCES category (category_id));
CREATE TABLE store (store_id TINYINT UNSIGNED PRIMARY KEY, manager_staff_id TINYINT UNSIGNED NOT NULL,
  address_id INT UNSIGNED NOT NULL, last_update TIMESTAMP NOT NULL DEFAULT '2006-02-15 04:57:12',
  UNIQUE KEY idx_unique_manager (manager_staff_id), FOREIGN KEY (address_id) REFERENCES address (address_id));
CREATE TABLE staff (staff_id TINYINT UNSIGNED PRIMARY KEY, first_name VARCHAR(45) NOT NULL, last_name VARCHAR(45) NOT NULL,
  address_id INT UNSIGNED NOT NULL, picture BLOB, email VARCHAR(50), store_id TINYINT UNSIGNED NOT NULL,
  active BOOLEAN NOT NULL DEFAULT TRUE, username VARCHAR(16) NOT NULL, password VARCHAR(40) BINARY,
  last_update TIMESTAMP NOT NULL DEFAULT '2006-02-15 03:57:16',
  FOREIGN KEY (store_id) REFERENCES store (store_id), FOREIGN KEY (address_id) REFERENCES address (address_id));
ALTER TABLE store ADD FOREIGN KEY (manager_staff_id) REFERENCES staff (staff_id);
CREATE TABLE customer (customer_id INT UNSIGNED PRIMARY KEY, store_id TINYINT UNSIGNED NOT NULL,
  first_name VARCHAR(45) NOT NULL, last_name VARCHAR(45) NOT NULL, email VARCHAR(50), address_id INT UNSIGNED NOT NULL,
  active BOOLEAN NOT NULL DEFAULT TRUE, create_date DATETIME NOT NULL, last_update TIMESTAMP NULL DEFAULT '2006-02-15 04:57:20',
  KEY idx_last_name (last_name), FOREIGN KEY (store_id) REFERENCES store (store_id),
  FOREIGN KEY (address_id) REFERENCES address (address_id));
CREATE TABLE inventory (inventory_id MEDIUMINT UNSIGNED PRIMARY KEY, film_id SMALLINT UNSIGNED NOT NULL,
  store_id TINYINT UNSIGNED NOT NULL, last_update TIMESTAMP NOT NULL DEFAULT '2006-02-15 05:09:17',
  KEY idx_store_id_film_id (store_id, film_id), FOREIGN KEY (store_id) REFERENCES store (store_id),
  FOREIGN KEY (film_id) REFERENCES film (film_id));
CREATE TABLE rental (rental_id INT PRIMARY KEY, rental_date DATETIME NOT NULL, inventory_id MEDIUMINT UNSIGNED NOT NULL,
  customer_id INT UNSIGNED NOT NULL, return_date DATETIME, staff_id TINYINT UNSIGNED NOT NULL,
  last_update TIMESTAMP NOT NULL DEFAULT '2006-02-15 21:30:53',
  UNIQUE KEY (rental_date, inventory_id, customer_id), FOREIGN KEY (staff_id) REFERENCES staff (staff_id),
  FOREIGN KEY (inventory_id) REFERENCES inventory (inventory_id), FOREIGN KEY (customer_id) REFERENCES customer (customer_id));
CREATE TABLE payment (payment_id INT PRIMARY KEY, customer_id INT UNSIGNED NOT NULL, staff_id TINYINT UNSIGNED NOT NULL,
  rental_id INT, amount DECIMAL(5,2) NOT NULL, payment_date DATETIME NOT NULL, last_update TIMESTAMP NULL DEFAULT '2006-02-15 22:12:30',
  FOREIGN KEY (rental_id) REFERENCES rental (rental_id), FOREIGN KEY (customer_id) REFERENCES customer (customer_id),
  FOREIGN KEY (staff_id) REFERENCES staff (staff_id));
SET foreign_key_checks = 0;
INSERT INTO language SELECT seq, ELT(seq, 'English', 'Italian', 'Japanese', 'Mandarin', 'French', 'German'), '2006-02-15 05:02:19' FROM seq_1_to_6;
INSERT INTO country SELECT seq, CONCAT('Country ', seq), '2006-02-15 05:02:19' FROM seq_1_to_100;
INSERT INTO city SELECT seq, CONCAT('City ', seq), 1 + seq % 100, '2006-02-15 05:02:19' FROM seq_1_to_600;
INSERT INTO address SELECT seq, CONCAT(seq, ' Sakila Drive'), IF(seq % 3 = 0, CONCAT('Suite ', seq % 400), NULL),
  ELT(1 + seq % 4, 'Alberta', 'QLD', 'Nagasaki', 'Texas'), 1 + seq % 600, LPAD(seq % 100000, 5, '0'),
  CONCAT('55501', LPAD(seq, 7, '0')), '2006-02-15 05:02:19' FROM seq_1_to_60055;
INSERT INTO category SELECT seq, ELT(seq, 'Action','Animation','Children','Classics','Comedy','Documentary','Drama','Family',
  'Foreign','Games','Horror','Music','New','Sci-Fi','Sports','Travel'), '2006-02-15 05:02:19' FROM seq_1_to_16;
INSERT INTO actor SELECT seq, CONCAT('FIRST', seq), CONCAT('LAST', seq % 700), '2006-02-15 05:02:19' FROM seq_1_to_1000;
INSERT INTO film SELECT seq, CONCAT('FILM TITLE ', seq), CONCAT('A Thoughtful Drama of a ', ELT(1 + seq % 5, 'Dog', 'Astronaut',
  'Lumberjack', 'Squirrel', 'Dentist'), ' And a ', ELT(1 + seq % 7, 'Cat', 'Boat', 'Monkey', 'Pastry Chef', 'Husband',
  'Robot', 'Moose'), ' who must Find a Forensic Psychologist in Ancient China, take ', seq),
  2006, 1 + seq % 6, 3 + seq % 5, 0.99 + (seq % 3) * 2, 46 + seq % 140, 9.99 + seq % 21,
  ELT(1 + seq % 5, 'G','PG','PG-13','R','NC-17'), ELT(1 + seq % 4, 'Trailers', 'Commentaries,Deleted Scenes',
  'Trailers,Behind the Scenes', 'Deleted Scenes'), '2006-02-15 05:02:19' FROM seq_1_to_5000;
INSERT INTO film_actor SELECT DISTINCT 1 + (f.seq * 7 + k.seq * 211) % 1000, f.seq, '2006-02-15 05:02:19' FROM seq_1_to_5000 f JOIN seq_0_to_4 k;
INSERT INTO film_category SELECT seq, 1 + seq % 16, '2006-02-15 05:02:19' FROM seq_1_to_5000;
-- Store s's manager is its first staff member; staff live at addresses 60,006-60,055, stores at 60,001-60,005.
INSERT INTO store SELECT seq, (seq - 1) * 10 + 1, 60000 + seq, '2006-02-15 05:02:19' FROM seq_1_to_5;
INSERT INTO staff SELECT seq, CONCAT('Staff', seq), CONCAT('Member', seq), 60005 + seq, IF(seq % 10 = 1, UNHEX(REPEAT('89504E47', 64)), NULL),
  CONCAT('staff', seq, '@sakilastaff.com'), 1 + (seq - 1) DIV 10, seq % 7 <> 0, CONCAT('user', seq), SHA1(seq), '2006-02-15 05:02:19' FROM seq_1_to_50;
-- Customer c shops at store 1 + (c - 1) % 5; inventory item i belongs to store 1 + (i - 1) % 5.
INSERT INTO customer SELECT seq, 1 + (seq - 1) % 5, CONCAT('FIRST', seq % 3000), CONCAT('LAST', seq % 5000),
  CONCAT('customer', seq, '@sakilacustomer.org'), seq, seq % 37 <> 0, '2006-02-14 22:04:36' + INTERVAL seq MINUTE, '2006-02-15 05:02:19'
  FROM seq_1_to_60000;
INSERT INTO inventory SELECT seq, 1 + seq % 5000, 1 + (seq - 1) % 5, '2006-02-15 05:02:19' FROM seq_1_to_100000;
-- Rental r: customer 1 + r % 60,000, at that customer's store, or every 20th at the next store; served by
-- a staff member of the store whose item it is.
INSERT INTO rental SELECT r.seq, '2005-05-24 22:53:30' + INTERVAL r.seq MINUTE,
  5 * ((r.seq * 7919 + r.seq DIV 100) % 20000) + r.s, r.c, IF(r.seq % 50 = 0, NULL, '2005-05-24 22:53:30' + INTERVAL r.seq MINUTE + INTERVAL 3 DAY),
  10 * (r.s - 1) + 1 + (r.seq + r.seq DIV 100) % 10, '2006-02-15 05:02:19'
  FROM (SELECT seq, 1 + seq % 60000 AS c, IF((seq DIV 5) % 20 = 0, 1 + (seq % 60000) % 5 + 1 - 5 * ((seq % 60000) % 5 = 4),
        1 + (seq % 60000) % 5) AS s FROM seq_1_to_400000) r;
INSERT INTO payment SELECT rental_id, customer_id, staff_id, IF(rental_id % 97 = 0, NULL, rental_id),
  0.99 + (rental_id % 10), rental_date, '2006-02-15 05:02:19' FROM rental;
SET foreign_key_checks = 1;
ANALYZE TABLE language, country, city, address, category, actor, film, film_actor, film_category, store, staff, customer,
  inventory, rental, payment;
