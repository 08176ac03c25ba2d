# Compatibility of Debian's prometheus-pgbouncer-exporter 1.7 with pgBouncer >= 1.8.
# pgBouncer 1.8 renamed SHOW STATS' total_requests to total_query_count; the
# exporter still reads total_requests and fails to start (KeyError) against any
# newer pgBouncer. This maps the metric pgbouncer_requests_total to the renamed
# column. Applied by docker/exporters/Dockerfile to the image's copy, and by the
# integration test to a copy of Debian's package (test/integration/monitoring).
s/'total_requests': (/'total_query_count': (/
