-- compose.yaml: the Prefect server's own database, next to journey's, created on PostgreSQL's first start.
CREATE DATABASE prefect OWNER journey;
