-- The example's data, made once when the database is initialized: one counter row that index.php increments.
CREATE TABLE hits (
  id INT PRIMARY KEY,
  n BIGINT NOT NULL
);
INSERT INTO hits (id, n) VALUES (1, 0);
