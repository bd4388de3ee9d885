-- A multi-tenant database whose every key leads with the tenant's id, (tenant_id, id)
-- (bench/shapes.py). Tenant 1 holds 20% of the rows. About 820,000 rows; MariaDB (seq_ tables).
CREATE TABLE tenants (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL);
CREATE TABLE projects (tenant_id INT NOT NULL, id INT NOT NULL, name VARCHAR(100), PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id) REFERENCES tenants (id));
CREATE TABLE tasks (tenant_id INT NOT NULL, id INT NOT NULL, project_id INT NOT NULL, title VARCHAR(200), body TEXT,
  PRIMARY KEY (tenant_id, id), KEY (tenant_id, project_id),
  FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id));
CREATE TABLE comments (tenant_id INT NOT NULL, id INT NOT NULL, task_id INT NOT NULL, body TEXT, created DATETIME,
  PRIMARY KEY (tenant_id, id), KEY (tenant_id, task_id),
  FOREIGN KEY (tenant_id, task_id) REFERENCES tasks (tenant_id, id));
INSERT INTO tenants SELECT seq, CONCAT('tenant ', seq) FROM seq_1_to_50;
INSERT INTO projects SELECT IF(seq % 5 = 0, 1, 2 + seq % 49), seq, CONCAT('project ', seq) FROM seq_1_to_20000;
INSERT INTO tasks SELECT IF((1 + seq DIV 10) % 5 = 0, 1, 2 + (1 + seq DIV 10) % 49), seq, 1 + seq DIV 10,
  CONCAT('task ', seq), REPEAT('b', seq % 300) FROM seq_0_to_199999;
INSERT INTO comments SELECT IF((1 + (seq DIV 3) DIV 10) % 5 = 0, 1, 2 + (1 + (seq DIV 3) DIV 10) % 49), seq, seq DIV 3,
  REPEAT('c', seq % 200), '2024-01-01' + INTERVAL seq MINUTE FROM seq_0_to_599999;
ANALYZE TABLE projects, tasks, comments;
