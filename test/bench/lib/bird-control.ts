/**
 * A persistent connection to BIRD's control socket (what birdc speaks), for
 * polling at millisecond resolution without starting a birdc process per
 * query. Replies end with a line whose 4-digit code is followed by a space.
 */
import { connect, type Socket } from "node:net";

export class BirdControl {
  private buffer = "";
  private pending: { resolve: (lines: string[]) => void; lines: string[] } | undefined;
  private ready: Promise<void>;

  private constructor(private readonly socket: Socket) {
    let greeted: () => void;
    this.ready = new Promise((resolve) => (greeted = resolve));
    let greeting = true;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf("\n")) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        if (greeting) {
          if (/^\d{4} /.test(line)) {
            greeting = false;
            greeted();
          }
          continue;
        }
        const p = this.pending;
        if (!p) continue;
        p.lines.push(line);
        if (/^\d{4} /.test(line)) {
          this.pending = undefined;
          p.resolve(p.lines);
        }
      }
    });
  }

  static async open(path: string): Promise<BirdControl> {
    const socket = connect(path);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const control = new BirdControl(socket);
    await control.ready;
    return control;
  }

  /** Runs one command; resolves with the reply lines (codes included). */
  command(text: string): Promise<string[]> {
    if (this.pending) throw new Error("one command at a time");
    return new Promise((resolve) => {
      this.pending = { resolve, lines: [] };
      this.socket.write(text + "\n");
    });
  }

  /** True when `prefix` is in table master4 (any protocol). */
  async hasRoute(prefix: string, protocol?: string): Promise<boolean> {
    const lines = await this.command(`show route ${prefix}${protocol ? ` protocol ${protocol}` : ""}`);
    return lines.some((l) => l.includes(prefix));
  }

  /** Routes a protocol has imported (`show protocols all`'s counter: cheap, unlike `show route count`). */
  async imported(protocol: string): Promise<number> {
    const lines = await this.command(`show protocols all ${protocol}`);
    for (const line of lines) {
      const m = /Routes:\s+(\d+) imported/.exec(line);
      if (m) return Number(m[1]);
    }
    return 0;
  }

  close(): void {
    this.socket.destroy();
  }
}
