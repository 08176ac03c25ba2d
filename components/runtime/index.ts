// Runtime files: configuration delivered to a running container without replacing it.
export * from "./runtime-files";
