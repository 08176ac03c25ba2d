// Rule 9: container escape routes other than `privileged`, each with variants an
// attacker or a careless user would write, and the look-alikes that are fine.
import { hostPathProblem, POLICY_NAMES, TYPES } from "../../policies/rules";
import { resourcePolicy, runResourceRule, UNKNOWN_STRING } from "./helpers";
import { goodContainer, Props } from "./fixtures";

const rule = resourcePolicy(POLICY_NAMES.containersNoHostAccess);
const check = (over: Props, config?: Record<string, unknown>) => runResourceRule(rule, TYPES.container, { ...goodContainer(), ...over }, { config });

describe("rule 9: no container reaches its host", () => {
  it("is mandatory and passes the platform's hardened container", async () => {
    expect(rule.enforcementLevel).toBe("mandatory");
    expect((await check({})).violations).toEqual([]);
  });

  describe("host paths", () => {
    it.each([
      "/var/run/docker.sock",
      "/run/docker.sock",
      "//var//run/docker.sock",
      "/var/run/./docker.sock",
      "/srv/../var/run/docker.sock",
      "/var/run/docker.sock/",
      "/home/ops/.docker/run/docker.sock", // rootless docker
      "/run/user/1000/docker.sock",
      "/run/containerd/containerd.sock",
      "/run/podman/podman.sock",
      "/",
      "/run",
      "/var/run",
      "/run/",
      "/var",
      "/var/lib/docker",
      "/var/lib/docker/volumes",
      "/proc",
      "/proc/sysrq-trigger",
      "/sys/fs/cgroup",
      "/dev",
      "/dev/mem",
      "/etc",
      "/etc/shadow",
      "/root/.ssh",
      "/boot",
      "/lib/modules",
    ])("refuses a volume hostPath %j", async (hostPath) => {
      const o = await check({ volumes: [{ hostPath, containerPath: "/mnt/x" }] });
      expect(o.violations).toEqual([expect.stringMatching(/^volumes\[0\]\.hostPath mounts/)]);
    });

    it.each(["/var/run/docker.sock", "/", "/run"])("refuses a bind mount of %j", async (source) => {
      const o = await check({ mounts: [{ type: "bind", source, target: "/mnt/x", readOnly: true }] });
      expect(o.violations).toEqual([expect.stringMatching(/^mounts\[0\]\.source mounts/)]);
    });

    it.each(["\\\\.\\pipe\\docker_engine", "//./pipe/docker_engine"])("refuses an npipe mount of the engine's pipe %j", async (source) => {
      const o = await check({ mounts: [{ type: "npipe", source, target: "\\\\.\\pipe\\docker_engine" }] });
      expect(o.violations).toEqual([expect.stringMatching(/^mounts\[0\]\.source mounts the named pipe/)]);
    });

    it("refuses a docker.Volume that binds a host directory through the local driver", async () => {
      const o = await runResourceRule(rule, TYPES.volume, { name: "sneaky", driver: "local", driverOpts: { type: "none", o: "bind", device: "/var/run" } });
      expect(o.violations).toEqual([expect.stringMatching(/driverOpts\.device mounts \/var\/run/)]);
      const plain = await runResourceRule(rule, TYPES.volume, { name: "pgdata" });
      expect(plain.violations).toEqual([]);
    });

    it.each(["/srv/homelab/data", "/var/lib/homelab", "/mnt/backups", "/home/ops/app", "/opt/run-scripts", "/variable"])("accepts a plain data directory %j", (p) => {
      expect(hostPathProblem(p)).toBeUndefined();
    });

    it("accepts named volumes and volume mounts, whatever their name", async () => {
      const o = await check({
        volumes: [{ volumeName: "docker.sock", containerPath: "/data" }],
        mounts: [{ type: "volume", source: "run", target: "/run/x" }, { type: "tmpfs", target: "/tmp" }],
      });
      expect(o.violations).toEqual([]);
    });

    it("accepts an exact path listed in allowedHostPaths, and only that one", async () => {
      const config = { allowedHostPaths: ["/etc/localtime"] };
      expect((await check({ volumes: [{ hostPath: "/etc/localtime", containerPath: "/etc/localtime", readOnly: true }] }, config)).violations).toEqual([]);
      expect((await check({ volumes: [{ hostPath: "/etc", containerPath: "/etc" }] }, config)).violations).toHaveLength(1);
    });
  });

  describe("capabilities, namespaces, devices, confinement", () => {
    it.each([["SYS_ADMIN"], ["CAP_SYS_ADMIN"], ["sys_ptrace"], ["ALL"], ["NET_ADMIN"], ["DAC_READ_SEARCH"], ["SYS_MODULE"]])("refuses capabilities.adds %j", async (cap) => {
      const o = await check({ capabilities: { adds: [cap], drops: ["ALL"] } });
      expect(o.violations).toEqual([expect.stringMatching(/^capabilities\.adds /)]);
    });

    it("names the allowed capabilities in the message, or none", async () => {
      expect((await check({ capabilities: { adds: ["SYS_ADMIN"] } })).violations).toEqual([
        "capabilities.adds SYS_ADMIN: a container gets no capability beyond Docker's defaults (allowedCapabilities: none)",
      ]);
      const o = await check({ capabilities: { adds: ["SYS_ADMIN"] } }, { allowedCapabilities: ["cap_net_bind_service", "CHOWN"] });
      expect(o.violations).toEqual([expect.stringMatching(/\(allowedCapabilities: NET_BIND_SERVICE, CHOWN\)$/)]);
    });

    it("accepts dropped capabilities, and an added one listed in allowedCapabilities", async () => {
      expect((await check({ capabilities: { drops: ["ALL"] } })).violations).toEqual([]);
      expect((await check({ capabilities: { adds: ["CAP_NET_BIND_SERVICE"] } }, { allowedCapabilities: ["NET_BIND_SERVICE"] })).violations).toEqual([]);
    });

    it.each(["pidMode", "ipcMode", "usernsMode", "cgroupnsMode", "networkMode"])("refuses %s host, in any case", async (input) => {
      expect((await check({ [input]: "host" })).violations).toEqual([`${input} "host" shares the host's namespace`]);
      expect((await check({ [input]: " HOST " })).violations).toHaveLength(1);
    });

    it("accepts private namespaces and sharing with another container", async () => {
      expect((await check({ ipcMode: "private", pidMode: "container:other", cgroupnsMode: "private", networkMode: "bridge" })).violations).toEqual([]);
    });

    it("refuses devices and device cgroup rules", async () => {
      expect((await check({ devices: [{ hostPath: "/dev/sda" }] })).violations).toEqual([expect.stringMatching(/devices\[0\] .*\/dev\/sda/)]);
      expect((await check({ deviceCgroupRules: ["c 1:3 mr"] })).violations).toEqual([expect.stringMatching(/deviceCgroupRules/)]);
    });

    it.each(["seccomp=unconfined", "seccomp:unconfined", "apparmor=unconfined", "apparmor:Unconfined", "label=disable", "label:disable", "systempaths=unconfined"])(
      "refuses securityOpts %j",
      async (opt) => {
        expect((await check({ securityOpts: ["no-new-privileges:true", opt] })).violations).toEqual([expect.stringMatching(/turns the kernel's confinement off/)]);
      },
    );

    it("accepts a seccomp profile and an AppArmor profile by name", async () => {
      expect((await check({ securityOpts: ["no-new-privileges:true", "seccomp=/etc/docker/seccomp.json", "apparmor=docker-default"] })).violations).toEqual([]);
    });

    it("reports every route at once, and tolerates values unknown during preview", async () => {
      const o = await check({
        volumes: [{ hostPath: "/", containerPath: "/host" }],
        capabilities: { adds: ["SYS_ADMIN"] },
        pidMode: "host",
        devices: [{ hostPath: "/dev/kmsg" }],
        securityOpts: ["seccomp=unconfined"],
      });
      expect(o.violations).toHaveLength(5);
      expect((await check({ volumes: [{ hostPath: UNKNOWN_STRING, containerPath: "/x" }], pidMode: UNKNOWN_STRING })).violations).toEqual([]);
    });
  });
});
