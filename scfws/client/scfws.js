// scfws.js: the browser client of the scfws host's reliable mode. One ES
// module, no build step, no dependency.
//
//   import { ReliableSocket } from "/scfws.js";
//   const ws = new ReliableSocket("wss://example.com/");
//   ws.onopen = () => ws.send("hello");           // a string, an ArrayBuffer or a typed array
//   ws.onmessage = (ev) => console.log(ev.data);   // a string, or an ArrayBuffer
//   ws.onclose = (ev) => console.log("ended", ev.code, ev.reason);
//
// One ReliableSocket is one logical connection: when its socket is cut
// (the host's lifetime close, a deploy, a network drop) it resumes the same
// connection, with jittered backoff, within the host's window, and gets
// every message pushed to it meanwhile, once and in order; what it sent is
// handled once. onopen and onclose fire once per logical connection;
// onreconnecting and onresumed around each cut. Against a server without
// the reliable mode it is a plain WebSocket (no resume). The wire is in
// docs/protocol.md, "Reliable mode".

export const PROTOCOL = "scfws.reliable.v1";

const ACK_EVERY = 32;
const ACK_AFTER_MS = 50;

export class ReliableSocket {
  constructor(url, options = {}) {
    this.url = url;
    this.protocols = options.protocols || [];
    this.minBackoff = options.minBackoff || 100;
    this.maxBackoff = options.maxBackoff || 5000;
    this.id = "";
    this.protocol = "";
    this.reliable = false;
    this.resumes = 0;
    this.onopen = null;
    this.onmessage = null;
    this.onclose = null;
    this.onreconnecting = null;
    this.onresumed = null;
    this._token = "";
    this._window = 0;
    this._lastIn = 0;
    this._unacked = 0;
    this._ackTimer = null;
    this._out = 0;
    this._sent = []; // [seq, data] written and not yet handled by the server
    this._ended = false;
    this._closing = false;
    this._ws = null;
    this._open(false);
  }

  get connected() {
    return !!this._ws && this._ws.readyState === WebSocket.OPEN && this._ready;
  }

  send(data) {
    if (this._ended) throw new Error("scfws: the connection has ended");
    if (!this.reliable) {
      if (this._ws && this._ready) this._ws.send(data);
      else this._early = (this._early || []).concat([data]);
      return;
    }
    this._out++;
    const m = [this._out, data];
    this._sent.push(m);
    if (this.connected) this._write(m);
  }

  close() {
    this._closing = true;
    if (this._ws && this._ws.readyState <= WebSocket.OPEN) {
      this._ack();
      this._ws.close(1000);
    }
    this._end(1000, "closed by the client");
  }

  _open(resuming) {
    let url = this.url;
    if (resuming) {
      const u = new URL(url, location.href);
      u.searchParams.set("scfws_resume", this._token);
      u.searchParams.set("scfws_ack", String(this._lastIn));
      url = u.toString();
    }
    let ws;
    try {
      ws = new WebSocket(url, [PROTOCOL, ...this.protocols]);
    } catch (e) {
      this._end(4000, String(e));
      return;
    }
    ws.binaryType = "arraybuffer";
    this._ws = ws;
    this._ready = false;
    let ending = null;
    ws.onopen = () => {
      if (ws.protocol !== PROTOCOL) {
        // a plain server: no resume
        this.protocol = ws.protocol;
        this._ready = true;
        this._fire("onopen", {});
        for (const d of this._early || []) ws.send(d);
        this._early = null;
      }
    };
    ws.onmessage = (ev) => {
      if (ws.protocol !== PROTOCOL) {
        this._fire("onmessage", { data: ev.data });
        return;
      }
      if (typeof ev.data === "string" && ev.data[0] === "{") {
        let m;
        try { m = JSON.parse(ev.data); } catch { return; }
        if (m.type === "welcome" || m.type === "resumed") {
          this.reliable = true;
          const early = this._early || [];
          this._early = null;
          for (const d of early) { this._out++; this._sent.push([this._out, d]); } // sent before the welcome
          this.id = m.id;
          this._token = m.token;
          this._window = (m.window || 0) * 1000;
          this.protocol = m.protocol || "";
          this._ready = true;
          this._attempt = 0;
          this._deadline = 0;
          if (m.type === "welcome") {
            this._fire("onopen", {});
          } else {
            this.resumes++;
            this._handled(m.in);
            this._fire("onresumed", {});
          }
          for (const s of this._sent) this._write(s);
        } else if (m.type === "ack") {
          this._handled(m.seq);
        } else if (m.type === "end") {
          ending = m.reason || "ended by the server";
        }
        return;
      }
      let seq, data;
      if (typeof ev.data === "string") {
        const i = ev.data.indexOf(":");
        seq = Number(ev.data.slice(0, i));
        data = ev.data.slice(i + 1);
      } else {
        seq = Number(new DataView(ev.data).getBigUint64(0));
        data = ev.data.slice(8);
      }
      if (!(seq > 0) || seq > this._lastIn + 1) {
        ws.close(); // a gap: resume from the last received
        return;
      }
      if (seq <= this._lastIn) return; // a copy of one received
      this._lastIn = seq;
      this._unacked++;
      if (this._unacked >= ACK_EVERY) this._ack();
      else if (!this._ackTimer) this._ackTimer = setTimeout(() => this._ack(), ACK_AFTER_MS);
      this._fire("onmessage", { data });
    };
    ws.onclose = (ev) => {
      if (this._ws !== ws) return;
      this._ready = false;
      if (this._closing || this._ended) return;
      if (!this.reliable || ending !== null || ev.code === 4000 || ev.code === 4001) {
        this._end(ev.code, ending !== null ? ending : ev.reason);
        return;
      }
      this._reconnect();
    };
  }

  _reconnect() {
    if (!this._deadline) this._deadline = Date.now() + Math.max(this._window, 1000);
    if (Date.now() > this._deadline) {
      this._end(4000, "could not resume within the window");
      return;
    }
    this._attempt = (this._attempt || 0) + 1;
    const cap = Math.min(this.maxBackoff, this.minBackoff * 2 ** Math.min(this._attempt - 1, 16));
    this._fire("onreconnecting", { attempt: this._attempt });
    setTimeout(() => {
      if (this._closing || this._ended) return;
      this._open(true);
    }, Math.random() * cap); // full jitter
  }

  _write(m) {
    const [seq, data] = m;
    if (typeof data === "string") {
      this._ws.send(seq + ":" + data);
      return;
    }
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const out = new Uint8Array(8 + bytes.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(seq));
    out.set(bytes, 8);
    this._ws.send(out);
  }

  _handled(seq) {
    while (this._sent.length && this._sent[0][0] <= seq) this._sent.shift();
  }

  _ack() {
    clearTimeout(this._ackTimer);
    this._ackTimer = null;
    if (!this._unacked || !this.connected) return;
    this._unacked = 0;
    this._ws.send(JSON.stringify({ type: "ack", seq: this._lastIn }));
  }

  _end(code, reason) {
    if (this._ended) return;
    this._ended = true;
    clearTimeout(this._ackTimer);
    this._fire("onclose", { code, reason });
  }

  _fire(name, ev) {
    const f = this[name];
    if (typeof f === "function") f.call(this, ev);
  }
}
