-- A forum (bench/shapes.py): users keyed by 16 bytes, threads by BIGINT UNSIGNED, posts by
-- (thread_id, seq) with replies to each other, post tags and votes by three columns; posts and
-- votes name users of other communities. Community 1 holds a fifth of the threads.
-- About 790,000 rows; MariaDB (its seq_ tables).
CREATE TABLE communities (id SMALLINT UNSIGNED PRIMARY KEY, slug VARCHAR(30) NOT NULL UNIQUE, created DATE);
CREATE TABLE users (id BINARY(16) PRIMARY KEY, community_id SMALLINT UNSIGNED NOT NULL, handle VARCHAR(40) NOT NULL,
  karma FLOAT, bio TEXT, avatar MEDIUMBLOB, last_seen TIMESTAMP(6) NULL, UNIQUE KEY (community_id, handle),
  FOREIGN KEY (community_id) REFERENCES communities(id));
CREATE TABLE tags (id TINYINT UNSIGNED PRIMARY KEY, name VARCHAR(20) NOT NULL);
CREATE TABLE threads (id BIGINT UNSIGNED PRIMARY KEY, community_id SMALLINT UNSIGNED NOT NULL, author BINARY(16) NOT NULL,
  title VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci, pinned BOOL NOT NULL DEFAULT 0, score DECIMAL(8,3),
  FOREIGN KEY (community_id) REFERENCES communities(id), FOREIGN KEY (author) REFERENCES users(id));
CREATE TABLE posts (thread_id BIGINT UNSIGNED NOT NULL, seq INT NOT NULL, author BINARY(16) NOT NULL, reply_to_seq INT NULL,
  body MEDIUMTEXT, edited DATETIME(3), PRIMARY KEY (thread_id, seq),
  FOREIGN KEY (thread_id) REFERENCES threads(id), FOREIGN KEY (author) REFERENCES users(id),
  FOREIGN KEY (thread_id, reply_to_seq) REFERENCES posts(thread_id, seq));
CREATE TABLE post_tags (thread_id BIGINT UNSIGNED NOT NULL, seq INT NOT NULL, tag_id TINYINT UNSIGNED NOT NULL,
  PRIMARY KEY (thread_id, seq, tag_id), FOREIGN KEY (thread_id, seq) REFERENCES posts(thread_id, seq), FOREIGN KEY (tag_id) REFERENCES tags(id));
CREATE TABLE votes (thread_id BIGINT UNSIGNED NOT NULL, seq INT NOT NULL, voter BINARY(16) NOT NULL, up BIT(1) NOT NULL,
  PRIMARY KEY (thread_id, seq, voter), FOREIGN KEY (thread_id, seq) REFERENCES posts(thread_id, seq), FOREIGN KEY (voter) REFERENCES users(id));
INSERT INTO communities SELECT seq, CONCAT('c', seq), '2020-01-01' + INTERVAL seq DAY FROM seq_1_to_60;
INSERT INTO tags SELECT seq, CONCAT('tag', seq) FROM seq_1_to_50;
INSERT INTO users SELECT UNHEX(MD5(CONCAT('u', seq))), IF(seq % 5 = 0, 1, 2 + seq % 59), CONCAT('h', seq), seq / 9.0 + 0.123456,
  IF(seq % 3 = 0, NULL, REPEAT('bio é ', seq % 20)), IF(seq % 10 = 0, UNHEX(REPEAT(MD5(seq), 40)), NULL),
  IF(seq % 4 = 0, NULL, '2024-01-01' + INTERVAL seq SECOND) FROM seq_1_to_30000;
INSERT INTO threads SELECT 9000000000000000000 + seq, IF(seq % 5 = 0, 1, 2 + seq % 59),
  UNHEX(MD5(CONCAT('u', IF(seq % 5 = 0, 5 * (1 + seq % 6000), 1 + seq % 29999)))),
  CONCAT('Thread ', seq, ' ünï'), seq % 17 = 0, seq / 1000 FROM seq_1_to_40000;
UPDATE threads SET author = UNHEX(MD5(CONCAT('u', 5 * (1 + id % 6000)))) WHERE community_id = 1;
-- posts: 10 per thread; authors from anywhere (cross-community parents), replies to the previous post
INSERT INTO posts SELECT t.id, s.seq, UNHEX(MD5(CONCAT('u', 1 + (t.id + s.seq * 7) % 30000))), IF(s.seq > 1, s.seq - 1, NULL),
  REPEAT(CONCAT('post ', s.seq, ' 🚀 '), 1 + s.seq % 8), '2025-01-01' + INTERVAL s.seq MINUTE FROM threads t JOIN seq_1_to_10 s;
INSERT INTO post_tags SELECT p.thread_id, p.seq, 1 + (p.thread_id + p.seq) % 50 FROM posts p WHERE p.seq % 2 = 0;
INSERT INTO votes SELECT p.thread_id, p.seq, UNHEX(MD5(CONCAT('u', 1 + (p.thread_id % 30000 * 3 + p.seq) % 30000))), p.seq % 2 FROM posts p WHERE p.seq % 3 = 0;
ANALYZE TABLE communities, users, tags, threads, posts, post_tags, votes;
