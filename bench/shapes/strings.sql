-- A multi-tenant database keyed by strings (bench/shapes.py): orgs by UUID text (CHAR(36)),
-- members by 16 bytes (BINARY(16)) and a unique email, documents by a two-column string key
-- (org_id, slug) with a self-reference, revisions by integers. Org ...000000000000 holds 20% of
-- the rows; some references hold their parent's key in another case (utf8mb4_general_ci).
-- About 1,100,000 rows; MariaDB (its seq_ tables). members.ratio is a FLOAT, which mysqldump writes
-- to 6 significant digits: its subset is verified with `--float-digits 6`.
CREATE TABLE orgs (id CHAR(36) PRIMARY KEY, name VARCHAR(100) NOT NULL, plan ENUM('free','pro','ent') NOT NULL);
CREATE TABLE members (id BINARY(16) PRIMARY KEY, org_id CHAR(36) NOT NULL, email VARCHAR(200) NOT NULL,
  created DATETIME(6) NOT NULL, flags BIT(8) NOT NULL, perms SET('r','w','x') NOT NULL, score DOUBLE, ratio FLOAT,
  UNIQUE KEY (email), FOREIGN KEY (org_id) REFERENCES orgs (id));
CREATE TABLE docs (org_id CHAR(36) NOT NULL, slug VARCHAR(64) NOT NULL, owner BINARY(16) NOT NULL,
  parent_slug VARCHAR(64) NULL, body MEDIUMTEXT, price DECIMAL(12,4), meta JSON, day DATE, t TIME(3), y YEAR,
  PRIMARY KEY (org_id, slug), FOREIGN KEY (org_id) REFERENCES orgs (id), FOREIGN KEY (owner) REFERENCES members (id),
  FOREIGN KEY (org_id, parent_slug) REFERENCES docs (org_id, slug));
CREATE TABLE revisions (id BIGINT UNSIGNED PRIMARY KEY, org_id CHAR(36) NOT NULL, slug VARCHAR(64) NOT NULL,
  author BINARY(16) NOT NULL, data BLOB, note TEXT, big BIGINT UNSIGNED,
  FOREIGN KEY (org_id, slug) REFERENCES docs (org_id, slug), FOREIGN KEY (author) REFERENCES members (id));
CREATE TABLE audit (id INT PRIMARY KEY, member_email VARCHAR(200) NOT NULL, what VARCHAR(100), at DATETIME,
  FOREIGN KEY (member_email) REFERENCES members (email));

INSERT INTO orgs SELECT CONCAT('00000000-0000-4000-8000-', LPAD(seq, 12, '0')), CONCAT('Org ', seq, ' ''q'' \\ "x"'),
  ELT(1 + seq % 3, 'free', 'pro', 'ent') FROM seq_0_to_49;
INSERT INTO members SELECT UNHEX(MD5(seq)), CONCAT('00000000-0000-4000-8000-', LPAD(IF(seq % 5 = 0, 0, 1 + seq % 49), 12, '0')),
  CONCAT('user', seq, '@example.com'), TIMESTAMP('2020-01-01') + INTERVAL seq SECOND + INTERVAL (seq % 1000000) MICROSECOND,
  seq % 256, ELT(1 + seq % 4, '', 'r', 'r,w', 'r,w,x'), IF(seq % 7 = 0, NULL, seq / 3.0), seq / 7.0 FROM seq_0_to_99999;
INSERT INTO docs SELECT CONCAT('00000000-0000-4000-8000-', LPAD(IF(seq % 5 = 0, 0, 1 + seq % 49), 12, '0')), CONCAT('doc-', seq),
  UNHEX(MD5(IF(seq % 5 = 0, (seq DIV 5 % 20000) * 5, 1 + (seq % 99999) - ((seq % 99999) % 5 = 0)))),
  NULL, REPEAT(CONCAT('body ', seq, ' é ☃ \n\t'), 1 + seq % 20), seq / 100, JSON_OBJECT('k', seq, 's', 'a"b'),
  DATE('2021-01-01') + INTERVAL seq % 1000 DAY, SEC_TO_TIME(seq % 86400) + INTERVAL 0.123 SECOND, 1990 + seq % 100
  FROM seq_0_to_299999;
-- Chains of ten documents in the large org, every 4th naming its parent in upper case.
UPDATE docs SET parent_slug = CONCAT(IF(CAST(SUBSTRING(slug, 5) AS UNSIGNED) % 4 = 0, 'DOC-', 'doc-'),
  CAST(SUBSTRING(slug, 5) AS UNSIGNED) - 5)
  WHERE org_id = '00000000-0000-4000-8000-000000000000' AND CAST(SUBSTRING(slug, 5) AS UNSIGNED) % 50 <> 0;
INSERT INTO revisions SELECT seq + 18446744073700000000, d.org_id, d.slug, d.owner, UNHEX(REPEAT(MD5(seq), 1 + seq % 8)),
  IF(seq % 3 = 0, NULL, CONCAT('n', seq, ' 🚀')), 18446744073709551615 - seq
  FROM seq_0_to_599999 JOIN docs d ON d.org_id = CONCAT('00000000-0000-4000-8000-', LPAD(IF((seq DIV 2) % 5 = 0, 0,
  1 + (seq DIV 2) % 49), 12, '0')) AND d.slug = CONCAT('doc-', seq DIV 2);
-- Children of members by their unique email, not their key; every 4th names it in upper case.
INSERT INTO audit SELECT seq, IF(seq % 4 = 0, UPPER(CONCAT('user', seq % 100000, '@example.com')),
  CONCAT('user', seq % 100000, '@example.com')), CONCAT('did ', seq), '2024-01-01' + INTERVAL seq MINUTE
  FROM seq_1_to_100000;
ANALYZE TABLE orgs, members, docs, revisions, audit;
