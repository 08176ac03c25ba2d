// Entry point of the policy pack. Constructing a PolicyPack starts the gRPC
// server the Pulumi CLI talks to, so this file does nothing else: the rules live
// in ./rules (one module per area, assembled in rules/index.ts), which tests
// import without starting anything.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./rules";

new PolicyPack("homelab-postgres", {
  policies,
  // Each rule sets its own level; this applies only to a rule that does not.
  enforcementLevel: "mandatory",
  description: "Guards the homelab-postgres stacks: tailnet-only ports, pinned images, hardened containers, least-privilege roles, strong passwords, safe backups.",
});
