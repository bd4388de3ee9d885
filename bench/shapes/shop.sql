-- A shop (bench/shapes.py): order items keyed by (order_id, line), children found through the
-- first column of their primary key; FLOAT, TIMESTAMP, JSON, a generated column, a trigger.
-- Shop 1 holds a quarter of the customers (and their orders, items, payments, audit rows).
-- About 1,160,000 rows; MariaDB (its seq_ tables).
CREATE TABLE shops (id INT PRIMARY KEY, name VARCHAR(80) NOT NULL, opened TIMESTAMP NOT NULL DEFAULT '2020-01-01 00:00:00');
CREATE TABLE categories (id INT PRIMARY KEY, shop_id INT NOT NULL, parent_id INT NULL, name VARCHAR(50),
  FOREIGN KEY (shop_id) REFERENCES shops(id), FOREIGN KEY (parent_id) REFERENCES categories(id));
CREATE TABLE products (id INT PRIMARY KEY, shop_id INT NOT NULL, category_id INT NOT NULL, sku VARCHAR(40) NOT NULL UNIQUE,
  price FLOAT NOT NULL, weight DOUBLE, attrs JSON, name_upper VARCHAR(80) AS (UPPER(sku)) VIRTUAL,
  FOREIGN KEY (shop_id) REFERENCES shops(id), FOREIGN KEY (category_id) REFERENCES categories(id));
CREATE TABLE customers (id BIGINT PRIMARY KEY, shop_id INT NOT NULL, email VARCHAR(120) NOT NULL, created TIMESTAMP(3) NOT NULL,
  status ENUM('new','active','gone') NOT NULL, photo VARBINARY(64), FOREIGN KEY (shop_id) REFERENCES shops(id));
CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, placed DATETIME NOT NULL, total DECIMAL(12,2), note TEXT,
  FOREIGN KEY (customer_id) REFERENCES customers(id));
CREATE TABLE order_items (order_id BIGINT NOT NULL, line SMALLINT NOT NULL, product_id INT NOT NULL, qty INT NOT NULL, unit_price FLOAT,
  PRIMARY KEY (order_id, line), FOREIGN KEY (order_id) REFERENCES orders(id), FOREIGN KEY (product_id) REFERENCES products(id));
CREATE TABLE payments (id BIGINT PRIMARY KEY, order_id BIGINT NOT NULL, amount DECIMAL(12,2), card_last4 CHAR(4), paid_at TIMESTAMP NULL,
  FOREIGN KEY (order_id) REFERENCES orders(id));
CREATE TABLE audit_log (id BIGINT AUTO_INCREMENT PRIMARY KEY, customer_id BIGINT NOT NULL, what VARCHAR(200), at DATETIME(6),
  FOREIGN KEY (customer_id) REFERENCES customers(id));
CREATE TRIGGER t_orders BEFORE INSERT ON orders FOR EACH ROW SET NEW.note = IFNULL(NEW.note, 'x');
INSERT INTO shops SELECT seq, CONCAT('shop ', seq, ' "q" \\'), '2020-01-01' + INTERVAL seq DAY FROM seq_1_to_100;
INSERT INTO categories SELECT seq, 1 + seq % 100, IF(seq > 100, seq - 100, NULL), CONCAT('cat ', seq) FROM seq_1_to_2000;
INSERT INTO products (id, shop_id, category_id, sku, price, weight, attrs) SELECT seq, 1 + seq % 100, 1 + (seq % 20) * 100 + seq % 100, CONCAT('sku-', seq), seq / 7.0 + 0.01, seq / 3.0,
  JSON_OBJECT('c', seq % 5) FROM seq_1_to_20000;
UPDATE products SET category_id = IF(shop_id = 1, 100, shop_id - 1) + 100 * (id % 19);
INSERT INTO customers SELECT seq, IF(seq % 4 = 0, 1, 2 + seq % 99), CONCAT('c', seq, '@x.org'), '2021-01-01' + INTERVAL seq SECOND + INTERVAL 0.5 SECOND,
  ELT(1 + seq % 3, 'new','active','gone'), UNHEX(MD5(seq)) FROM seq_1_to_40000;
INSERT INTO orders SELECT seq, 1 + seq % 40000, '2022-01-01' + INTERVAL seq MINUTE, seq / 10, IF(seq % 2, REPEAT('n', seq % 500), NULL) FROM seq_1_to_200000;
INSERT INTO order_items SELECT o.seq, l.seq, 100 * (1 + (o.seq * 7 + l.seq) % 199) + (IF((1 + o.seq % 40000) % 4 = 0, 1, 2 + (1 + o.seq % 40000) % 99) - 1),
  l.seq, (o.seq % 1000) / 3.0 FROM seq_1_to_200000 o JOIN seq_1_to_3 l;
INSERT INTO payments SELECT seq, seq, seq / 10, LPAD(seq % 10000, 4, '0'), IF(seq % 5 = 0, NULL, '2023-01-01' + INTERVAL seq SECOND) FROM seq_1_to_200000;
INSERT INTO audit_log (customer_id, what, at) SELECT 1 + seq % 40000, CONCAT('did ', seq), '2024-01-01' + INTERVAL seq SECOND FROM seq_1_to_100000;
ANALYZE TABLE shops, categories, products, customers, orders, order_items, payments, audit_log;
