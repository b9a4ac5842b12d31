<?php
// The LNMP example's page: each view adds one to the counter in MariaDB (table `hits`, made by
// mariadb/schema.sql when the database is initialized) and shows it. The password is the compose secret
// db_password, mounted at DB_PASSWORD_FILE; host, database and user come from the environment.
declare(strict_types=1);

mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
header('Content-Type: text/html; charset=utf-8');
try {
    $password = rtrim((string) file_get_contents(getenv('DB_PASSWORD_FILE')), "\r\n");
    $db = new mysqli(getenv('DB_HOST'), getenv('DB_USER'), $password, getenv('DB_NAME'));
    // LAST_INSERT_ID(expr) makes the increment and its read one statement: concurrent views get distinct values.
    $db->query('UPDATE hits SET n = LAST_INSERT_ID(n + 1) WHERE id = 1');
    $views = (int) $db->insert_id;
    $server = $db->server_info;
    $db->close();
} catch (mysqli_sql_exception $e) {
    http_response_code(503);
    echo "database unavailable: ", htmlspecialchars($e->getMessage()), "\n";
    exit;
}
?>
<!DOCTYPE html>
<html>
<head>
<title>LNMP counter</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<h1>Hello from nginx, PHP-FPM and MariaDB</h1>
<p id="views">This page has been viewed <?= $views ?> times.</p>
<p class="stack">PHP <?= PHP_VERSION ?> (<?= php_sapi_name() ?>), MariaDB <?= htmlspecialchars($server) ?></p>
</body>
</html>
