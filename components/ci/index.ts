// CI access: the tailnet auth key CI runners join with.
export * from "./ci-access";
