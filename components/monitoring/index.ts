// Monitoring: exporters, their queries and logins, the scrape config; the alert
// rules (alerts.rules.yml), their promtool tests and the Grafana dashboard live beside.
export * from "./exporters";
export * from "./image";
export * from "./monitoring";
export * from "./queries";
export * from "./scrape";
