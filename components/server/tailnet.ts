// The one address every published port binds: an explicit tailnet IP, a device
// looked up in the tailnet, or loopback for a stack with no tailnet.
import * as pulumi from "@pulumi/pulumi";
import * as tailscale from "@pulumi/tailscale";
import { isTailnetIPv4 } from "../lib/net";

export const LOOPBACK = "127.0.0.1";

/** Pure: the first IPv4 tailnet address of a device, or a clear error. */
export function pickTailnetIPv4(device: string, addresses: readonly string[]): string {
  const ip = addresses.find(isTailnetIPv4);
  if (!ip) {
    throw new Error(`tailscale device ${JSON.stringify(device)} has no IPv4 address in 100.64.0.0/10 (addresses: ${addresses.join(", ") || "none"})`);
  }
  return ip;
}

export interface BindAddressArgs {
  ip?: string;
  device?: string;
}

export function resolveBindAddress(args: BindAddressArgs, opts: pulumi.InvokeOutputOptions): pulumi.Output<string> {
  if (args.ip !== undefined) return pulumi.output(args.ip);
  if (args.device !== undefined) {
    const device = args.device;
    return tailscale.getDeviceOutput({ name: device }, opts).addresses.apply((a) => pickTailnetIPv4(device, a));
  }
  return pulumi.output(LOOPBACK);
}
