-- Warehouses after TPC-C's schema (bench/shapes.py): every key leads with the warehouse, keys of
-- two to four columns, references of three; order lines referencing the stock they are supplied
-- from, 1% of them another warehouse's; a history table without a key. Five warehouses, so
-- warehouse 1 holds 20% of the rows. About 800,000 rows; MariaDB (its seq_ tables).
CREATE TABLE warehouse (w_id SMALLINT NOT NULL PRIMARY KEY, w_name VARCHAR(10), w_street_1 VARCHAR(20),
  w_city VARCHAR(20), w_state CHAR(2), w_zip CHAR(9), w_tax DECIMAL(4,4), w_ytd DECIMAL(12,2));
CREATE TABLE district (d_id TINYINT NOT NULL, d_w_id SMALLINT NOT NULL, d_name VARCHAR(10), d_street_1 VARCHAR(20),
  d_city VARCHAR(20), d_state CHAR(2), d_zip CHAR(9), d_tax DECIMAL(4,4), d_ytd DECIMAL(12,2), d_next_o_id INT,
  PRIMARY KEY (d_w_id, d_id), FOREIGN KEY (d_w_id) REFERENCES warehouse (w_id));
CREATE TABLE item (i_id INT NOT NULL PRIMARY KEY, i_im_id INT, i_name VARCHAR(24), i_price DECIMAL(5,2),
  i_data VARCHAR(50));
CREATE TABLE customer (c_id INT NOT NULL, c_d_id TINYINT NOT NULL, c_w_id SMALLINT NOT NULL, c_first VARCHAR(16),
  c_middle CHAR(2), c_last VARCHAR(16), c_street_1 VARCHAR(20), c_city VARCHAR(20), c_state CHAR(2), c_zip CHAR(9),
  c_phone CHAR(16), c_since DATETIME, c_credit CHAR(2), c_credit_lim BIGINT, c_discount DECIMAL(4,4),
  c_balance DECIMAL(12,2), c_ytd_payment DECIMAL(12,2), c_payment_cnt SMALLINT, c_delivery_cnt SMALLINT,
  c_data VARCHAR(500), PRIMARY KEY (c_w_id, c_d_id, c_id), KEY idx_customer (c_w_id, c_d_id, c_last, c_first),
  FOREIGN KEY (c_w_id, c_d_id) REFERENCES district (d_w_id, d_id));
CREATE TABLE history (h_c_id INT, h_c_d_id TINYINT, h_c_w_id SMALLINT, h_d_id TINYINT, h_w_id SMALLINT,
  h_date DATETIME, h_amount DECIMAL(6,2), h_data VARCHAR(24),
  FOREIGN KEY (h_c_w_id, h_c_d_id, h_c_id) REFERENCES customer (c_w_id, c_d_id, c_id),
  FOREIGN KEY (h_w_id, h_d_id) REFERENCES district (d_w_id, d_id));
CREATE TABLE orders (o_id INT NOT NULL, o_d_id TINYINT NOT NULL, o_w_id SMALLINT NOT NULL, o_c_id INT NOT NULL,
  o_entry_d DATETIME, o_carrier_id TINYINT, o_ol_cnt TINYINT, o_all_local TINYINT,
  PRIMARY KEY (o_w_id, o_d_id, o_id), KEY idx_orders (o_w_id, o_d_id, o_c_id, o_id),
  FOREIGN KEY (o_w_id, o_d_id, o_c_id) REFERENCES customer (c_w_id, c_d_id, c_id));
CREATE TABLE new_orders (no_o_id INT NOT NULL, no_d_id TINYINT NOT NULL, no_w_id SMALLINT NOT NULL,
  PRIMARY KEY (no_w_id, no_d_id, no_o_id),
  FOREIGN KEY (no_w_id, no_d_id, no_o_id) REFERENCES orders (o_w_id, o_d_id, o_id));
CREATE TABLE stock (s_i_id INT NOT NULL, s_w_id SMALLINT NOT NULL, s_quantity SMALLINT, s_dist_01 CHAR(24),
  s_dist_02 CHAR(24), s_dist_03 CHAR(24), s_ytd DECIMAL(8,0), s_order_cnt SMALLINT, s_remote_cnt SMALLINT,
  s_data VARCHAR(50), PRIMARY KEY (s_w_id, s_i_id),
  FOREIGN KEY (s_w_id) REFERENCES warehouse (w_id), FOREIGN KEY (s_i_id) REFERENCES item (i_id));
CREATE TABLE order_line (ol_o_id INT NOT NULL, ol_d_id TINYINT NOT NULL, ol_w_id SMALLINT NOT NULL,
  ol_number TINYINT NOT NULL, ol_i_id INT NOT NULL, ol_supply_w_id SMALLINT NOT NULL, ol_delivery_d DATETIME,
  ol_quantity TINYINT, ol_amount DECIMAL(6,2), ol_dist_info CHAR(24),
  PRIMARY KEY (ol_w_id, ol_d_id, ol_o_id, ol_number),
  FOREIGN KEY (ol_w_id, ol_d_id, ol_o_id) REFERENCES orders (o_w_id, o_d_id, o_id),
  FOREIGN KEY (ol_supply_w_id, ol_i_id) REFERENCES stock (s_w_id, s_i_id));
SET foreign_key_checks = 0;
INSERT INTO warehouse SELECT seq, CONCAT('wh', seq), CONCAT(seq, ' Main St'), 'Springfield', 'IL', '123451111',
  0.0750, 300000 FROM seq_1_to_5;
INSERT INTO district SELECT d.seq, w.seq, CONCAT('dist', d.seq), CONCAT(d.seq, ' Elm St'), 'Shelbyville', 'IL',
  '543211111', 0.0500, 30000, 1001 FROM seq_1_to_5 w, seq_1_to_10 d;
INSERT INTO item SELECT seq, seq MOD 10000 + 1, CONCAT('item-', seq), 1 + (seq * 7919 MOD 9900) / 100,
  REPEAT('x', 26 + seq MOD 24) FROM seq_1_to_20000;
INSERT INTO customer SELECT c.seq, d.seq, w.seq, CONCAT('First', (c.seq * 31 + d.seq) MOD 5000), 'OE',
  CONCAT('LAST', c.seq MOD 1000), CONCAT(c.seq, ' Oak St'), 'Capital City', 'ST', '123451111',
  LPAD((w.seq * 1000003 + d.seq * 10007 + c.seq) MOD 10000000000, 16, '0'),
  '2026-01-01 00:00:00' + INTERVAL c.seq MINUTE, IF(c.seq MOD 10 = 0, 'BC', 'GC'), 50000, 0.1000, -10.00, 10.00,
  1, 0, REPEAT('c', 300 + c.seq MOD 200) FROM seq_1_to_5 w, seq_1_to_10 d, seq_1_to_1000 c;
INSERT INTO history SELECT c.seq, d.seq, w.seq, d.seq, w.seq, '2026-01-01 00:00:00' + INTERVAL c.seq MINUTE, 10.00,
  'hist data' FROM seq_1_to_5 w, seq_1_to_10 d, seq_1_to_1000 c;
INSERT INTO orders SELECT o.seq, d.seq, w.seq, 1 + (o.seq * 7 + d.seq * 13 + w.seq) MOD 1000,
  '2026-01-01 00:00:00' + INTERVAL o.seq MINUTE, IF(o.seq > 700, NULL, 1 + o.seq MOD 10), 5 + o.seq MOD 11, 1
  FROM seq_1_to_5 w, seq_1_to_10 d, seq_1_to_1000 o;
INSERT INTO new_orders SELECT o_id, o_d_id, o_w_id FROM orders WHERE o_id > 700;
INSERT INTO stock SELECT i.seq, w.seq, 10 + i.seq MOD 91, REPEAT('a', 24), REPEAT('b', 24), REPEAT('c', 24), 0, 0,
  0, REPEAT('s', 26 + i.seq MOD 24) FROM seq_1_to_5 w, seq_1_to_20000 i;
INSERT INTO order_line SELECT o.o_id, o.o_d_id, o.o_w_id, n.seq,
  1 + (o.o_w_id * 7919 + o.o_d_id * 104729 + o.o_id * 1299709 + n.seq * 15485863) MOD 20000,
  IF((o.o_id * 31 + n.seq * 17 + o.o_d_id) MOD 100 = 0, 1 + o.o_w_id MOD 5, o.o_w_id),
  IF(o.o_id > 700, NULL, o.o_entry_d), 5, IF(o.o_id > 700, 12.34, 0.00), REPEAT('d', 24)
  FROM orders o JOIN seq_1_to_15 n ON n.seq <= o.o_ol_cnt;
SET foreign_key_checks = 1;
ANALYZE TABLE warehouse, district, item, customer, history, orders, new_orders, stock, order_line;
