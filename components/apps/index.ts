// Per-app databases: the access model (roles, grants, default privileges) and the
// AppDatabase component that turns it into provider resources.
export * from "./access";
export * from "./admin";
export * from "./app-database";
export * from "./rotation";
export * from "./external-admin";
