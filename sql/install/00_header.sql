-- funnel extension, version 1.0 (assembled from sql/install/*.sql)

\echo Use "CREATE EXTENSION funnel" to load this file. \quit
