-- Run once by the postgres image on an empty volume: the app database next to the warehouse (POSTGRES_DB).
CREATE DATABASE scc_app;
