// The in-isolate runtime of the JavaScript sandbox (loaded by js-host.ts, compiled inside each isolate; it is
// not a module and sees no Node API). One expression: a function of (stdin text, write(fd, text), exit(code))
// that installs globals (process, console, Buffer, timers, TextEncoder/TextDecoder) and returns the control
// functions the host calls: start(programFn), step() → whether it ran a macrotask, finish() → {exitCode, error}.
// Macrotasks (stdin events, immediates, timers on a virtual clock) run one per step() call, so V8 drains the
// microtask queue between them, as Node does.
(function (input, hostWrite, hostExit) {
  'use strict';
  const G = globalThis;
  const NONE = {};
  const promiseThen = Promise.prototype.then;
  const resolved = Promise.resolve();
  const ObjectKeys = Object.keys;
  const hasOwn = Object.prototype.hasOwnProperty;

  // ---------- UTF-8 ----------
  function utf8Length(s) {
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        n += 4;
        i++;
      } else n += 3;
    }
    return n;
  }
  function utf8Encode(s) {
    const out = new Uint8Array(utf8Length(s));
    let p = 0;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) out[p++] = c;
      else if (c < 0x800) {
        out[p++] = 0xc0 | (c >> 6);
        out[p++] = 0x80 | (c & 63);
      } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
        out[p++] = 0xf0 | (cp >> 18);
        out[p++] = 0x80 | ((cp >> 12) & 63);
        out[p++] = 0x80 | ((cp >> 6) & 63);
        out[p++] = 0x80 | (cp & 63);
      } else {
        if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
        out[p++] = 0xe0 | (c >> 12);
        out[p++] = 0x80 | ((c >> 6) & 63);
        out[p++] = 0x80 | (c & 63);
      }
    }
    return out;
  }
  function codesToString(codes, n) {
    let s = '';
    for (let i = 0; i < n; i += 8192) s += String.fromCharCode.apply(null, codes.subarray(i, Math.min(n, i + 8192)));
    return s;
  }
  function utf8Decode(b, start, end) {
    const codes = new Uint16Array(end - start);
    let n = 0;
    let i = start;
    while (i < end) {
      const c = b[i++];
      if (c < 0x80) {
        codes[n++] = c;
        continue;
      }
      let need = 0,
        cp = 0xfffd,
        min = 0;
      if ((c & 0xe0) === 0xc0) {
        need = 1;
        cp = c & 31;
        min = 0x80;
      } else if ((c & 0xf0) === 0xe0) {
        need = 2;
        cp = c & 15;
        min = 0x800;
      } else if ((c & 0xf8) === 0xf0) {
        need = 3;
        cp = c & 7;
        min = 0x10000;
      }
      let k = 0;
      while (k < need && i < end && (b[i] & 0xc0) === 0x80) {
        cp = (cp << 6) | (b[i++] & 63);
        k++;
      }
      if (k < need || cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) cp = 0xfffd;
      if (cp > 0xffff) {
        cp -= 0x10000;
        codes[n++] = 0xd800 + (cp >> 10);
        codes[n++] = 0xdc00 + (cp & 1023);
      } else codes[n++] = cp;
    }
    return codesToString(codes, n);
  }
  // Buffers made from a string remember it (the stdin buffer in particular), so that toString() of the whole,
  // unmodified-by-convention buffer costs nothing. Writing into such a buffer and then decoding it whole
  // returns the original text: an accepted imprecision of the shim.
  const sourceText = new WeakMap();

  // ---------- Buffer ----------
  function normEnc(enc) {
    const e = enc === undefined || enc === null ? 'utf8' : String(enc).toLowerCase();
    if (e === 'utf8' || e === 'utf-8') return 'utf8';
    if (e === 'latin1' || e === 'binary') return 'latin1';
    if (e === 'ascii' || e === 'hex') return e;
    throw new TypeError('Unknown encoding: ' + enc);
  }
  function encodeString(s, enc) {
    const e = normEnc(enc);
    if (e === 'utf8') return utf8Encode(s);
    if (e === 'hex') {
      const n = s.length >> 1;
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = parseInt(s.substr(2 * i, 2), 16);
        if (v !== v) return out.subarray(0, i);
        out[i] = v;
      }
      return out;
    }
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 255;
    return out;
  }
  function decodeBytes(b, enc, start, end) {
    const e = normEnc(enc);
    if (e === 'utf8') {
      if (start === 0 && end === b.length) {
        const t = sourceText.get(b);
        if (t !== undefined) return t;
      }
      return utf8Decode(b, start, end);
    }
    if (e === 'hex') {
      let s = '';
      for (let i = start; i < end; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
      return s;
    }
    const codes = new Uint16Array(end - start);
    for (let i = start; i < end; i++) codes[i - start] = e === 'ascii' ? b[i] & 127 : b[i];
    return codesToString(codes, end - start);
  }
  class Buffer extends Uint8Array {
    static from(value, encOrOffset, length) {
      if (typeof value === 'string') {
        const bytes = encodeString(value, encOrOffset);
        const buf = new Buffer(bytes.buffer, bytes.byteOffset, bytes.length);
        if (normEnc(encOrOffset) === 'utf8') sourceText.set(buf, value);
        return buf;
      }
      if (value instanceof ArrayBuffer)
        return new Buffer(
          value,
          encOrOffset || 0,
          length === undefined ? value.byteLength - (encOrOffset || 0) : length,
        );
      if (value !== null && typeof value === 'object' && typeof value.length === 'number') {
        const buf = new Buffer(value.length);
        for (let i = 0; i < value.length; i++) buf[i] = value[i] & 255;
        return buf;
      }
      throw new TypeError(
        'The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object.',
      );
    }
    static alloc(size, fill, enc) {
      const buf = new Buffer(size);
      if (fill !== undefined && fill !== 0) {
        if (typeof fill === 'number') buf.fill(fill & 255);
        else {
          const bytes = typeof fill === 'string' ? encodeString(fill, enc) : fill;
          for (let i = 0; bytes.length && i < size; i++) buf[i] = bytes[i % bytes.length];
        }
      }
      return buf;
    }
    static allocUnsafe(size) {
      return new Buffer(size);
    }
    static isBuffer(x) {
      return x instanceof Buffer;
    }
    static isEncoding(enc) {
      try {
        normEnc(enc);
        return true;
      } catch {
        return false;
      }
    }
    static byteLength(s, enc) {
      if (typeof s !== 'string') return s.byteLength;
      const e = normEnc(enc);
      return e === 'utf8' ? utf8Length(s) : e === 'hex' ? s.length >>> 1 : s.length;
    }
    static concat(list, total) {
      if (total === undefined) {
        total = 0;
        for (const b of list) total += b.length;
      }
      const out = new Buffer(total);
      let p = 0;
      for (const b of list) {
        if (p >= total) break;
        const part = b.length > total - p ? b.subarray(0, total - p) : b;
        out.set(part, p);
        p += part.length;
      }
      return out;
    }
    toString(enc, start, end) {
      const s = start === undefined ? 0 : Math.max(0, start | 0);
      const e = end === undefined ? this.length : Math.min(this.length, end | 0);
      return e <= s ? '' : decodeBytes(this, enc, s, e);
    }
    slice(start, end) {
      return this.subarray(start, end);
    }
    equals(other) {
      if (this.length !== other.length) return false;
      for (let i = 0; i < this.length; i++) if (this[i] !== other[i]) return false;
      return true;
    }
    toJSON() {
      return { type: 'Buffer', data: Array.from(this) };
    }
  }
  class TextEncoder {
    get encoding() {
      return 'utf-8';
    }
    encode(s) {
      return utf8Encode(s === undefined ? '' : String(s));
    }
  }
  class TextDecoder {
    constructor(label) {
      if (label !== undefined && normEnc(label) !== 'utf8')
        throw new RangeError('The "' + label + '" encoding is not supported');
    }
    get encoding() {
      return 'utf-8';
    }
    decode(b) {
      if (b === undefined) return '';
      const u = b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      const t = sourceText.get(b);
      return t !== undefined && u.length === b.length ? t : utf8Decode(u, 0, u.length);
    }
  }

  // ---------- EventEmitter ----------
  const EVENTS = Symbol('events');
  const ADDED = Symbol('listenerAdded');
  class EventEmitter {
    [ADDED](_name) {}
    _listenerList(name, create) {
      let m = this[EVENTS];
      if (!m) {
        if (!create) return undefined;
        m = new Map();
        Object.defineProperty(this, EVENTS, { value: m });
      }
      let l = m.get(name);
      if (!l && create) {
        l = [];
        m.set(name, l);
      }
      return l;
    }
    _add(name, fn, once, prepend) {
      if (typeof fn !== 'function')
        throw new TypeError('The "listener" argument must be of type function. Received ' + describe(fn));
      const l = this._listenerList(name, true);
      if (prepend) l.unshift({ fn: fn, once: once });
      else l.push({ fn: fn, once: once });
      this[ADDED](name);
      return this;
    }
    on(name, fn) {
      return this._add(name, fn, false, false);
    }
    addListener(name, fn) {
      return this._add(name, fn, false, false);
    }
    prependListener(name, fn) {
      return this._add(name, fn, false, true);
    }
    once(name, fn) {
      return this._add(name, fn, true, false);
    }
    prependOnceListener(name, fn) {
      return this._add(name, fn, true, true);
    }
    off(name, fn) {
      const l = this._listenerList(name, false);
      if (l)
        for (let i = l.length - 1; i >= 0; i--)
          if (l[i].fn === fn) {
            l.splice(i, 1);
            break;
          }
      return this;
    }
    removeListener(name, fn) {
      return this.off(name, fn);
    }
    removeAllListeners(name) {
      const m = this[EVENTS];
      if (m) {
        if (name === undefined) m.clear();
        else m.delete(name);
      }
      return this;
    }
    emit(name, ...args) {
      const l = this._listenerList(name, false);
      if (!l || l.length === 0) {
        if (name === 'error')
          throw args[0] instanceof Error ? args[0] : new Error('Unhandled error. (' + describe(args[0]) + ')');
        return false;
      }
      for (const entry of l.slice()) {
        if (entry.once) {
          const i = l.indexOf(entry);
          if (i !== -1) l.splice(i, 1);
        }
        entry.fn.apply(this, args);
      }
      return true;
    }
    listenerCount(name) {
      const l = this._listenerList(name, false);
      return l ? l.length : 0;
    }
    listeners(name) {
      const l = this._listenerList(name, false);
      return l
        ? l.map(function (e) {
            return e.fn;
          })
        : [];
    }
    rawListeners(name) {
      return this.listeners(name);
    }
    eventNames() {
      const m = this[EVENTS];
      return m ? Array.from(m.keys()).filter((k) => m.get(k).length > 0) : [];
    }
    setMaxListeners() {
      return this;
    }
    getMaxListeners() {
      return 10;
    }
  }
  EventEmitter.EventEmitter = EventEmitter;
  EventEmitter.defaultMaxListeners = 10;
  EventEmitter.once = function (emitter, name) {
    return new Promise(function (resolve) {
      emitter.once(name, function (...args) {
        resolve(args);
      });
    });
  };

  // ---------- inspect / format (a single-line approximation of util.inspect) ----------
  function describe(v) {
    if (v === null) return 'null';
    if (typeof v === 'object') return 'an instance of ' + ((v.constructor && v.constructor.name) || 'Object');
    if (typeof v === 'function') return 'function ' + (v.name || '(anonymous)');
    return 'type ' + typeof v + ' (' + inspect(v, 0, []) + ')';
  }
  function fmtNumber(n) {
    return n === 0 && 1 / n < 0 ? '-0' : String(n);
  }
  function quote(s) {
    const q = s.indexOf("'") === -1 ? "'" : s.indexOf('"') === -1 ? '"' : s.indexOf('\x60') === -1 ? '\x60' : "'";
    let out = q;
    for (let i = 0; i < s.length; i++) {
      const ch = s[i];
      const c = s.charCodeAt(i);
      if (ch === q || ch === '\\') out += '\\' + ch;
      else if (ch === '\n') out += '\\n';
      else if (ch === '\t') out += '\\t';
      else if (ch === '\r') out += '\\r';
      else if (ch === '\b') out += '\\b';
      else if (ch === '\f') out += '\\f';
      else if (ch === '\v') out += '\\v';
      else if (c < 32 || c === 127) out += '\\x' + (c < 16 ? '0' : '') + c.toString(16).toUpperCase();
      else out += ch;
    }
    return out + q;
  }
  const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
  function inspectKey(k) {
    return IDENT.test(k) ? k : quote(k);
  }
  function inspectProps(v, keys, depth, seen) {
    const out = [];
    for (const k of keys) {
      const d = Object.getOwnPropertyDescriptor(v, k);
      if (!d) continue;
      if (d.get || d.set)
        out.push(inspectKey(k) + ': ' + (d.get && d.set ? '[Getter/Setter]' : d.get ? '[Getter]' : '[Setter]'));
      else out.push(inspectKey(k) + ': ' + inspect(d.value, depth + 1, seen));
    }
    return out;
  }
  function braces(prefix, open, items, close) {
    return items.length === 0 ? prefix + open + close : prefix + open + ' ' + items.join(', ') + ' ' + close;
  }
  function inspect(v, depth, seen) {
    switch (typeof v) {
      case 'string':
        return quote(v);
      case 'number':
        return fmtNumber(v);
      case 'bigint':
        return v + 'n';
      case 'boolean':
      case 'undefined':
        return String(v);
      case 'symbol':
        return v.toString();
      case 'function': {
        const src = Function.prototype.toString.call(v);
        if (/^class\b/.test(src)) return '[class ' + (v.name || '(anonymous)') + ']';
        return v.name ? '[Function: ' + v.name + ']' : '[Function (anonymous)]';
      }
    }
    if (v === null) return 'null';
    if (seen.indexOf(v) !== -1) return '[Circular *1]';
    if (v instanceof Error) return depth === 0 && typeof v.stack === 'string' ? v.stack : '[' + String(v) + ']';
    if (v instanceof Date) return isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
    if (v instanceof RegExp) return String(v);
    if (v instanceof Promise) return 'Promise { <unknown> }';
    if (v instanceof Buffer) {
      let s = '<Buffer';
      for (let i = 0; i < Math.min(v.length, 50); i++) s += ' ' + (v[i] < 16 ? '0' : '') + v[i].toString(16);
      return s + (v.length > 50 ? ' ... ' + (v.length - 50) + ' more bytes>' : '>');
    }
    const isArray = Array.isArray(v);
    if (depth > 2) return isArray ? '[Array]' : '[Object]';
    seen.push(v);
    try {
      if (isArray || ArrayBuffer.isView(v)) {
        const items = [];
        const n = Math.min(v.length, 100);
        let holes = 0;
        for (let i = 0; i < n; i++) {
          if (isArray && !hasOwn.call(v, i)) {
            holes++;
            continue;
          }
          if (holes) {
            items.push('<' + holes + ' empty item' + (holes > 1 ? 's' : '') + '>');
            holes = 0;
          }
          items.push(inspect(v[i], depth + 1, seen));
        }
        if (holes) items.push('<' + holes + ' empty item' + (holes > 1 ? 's' : '') + '>');
        if (v.length > 100) items.push('... ' + (v.length - 100) + ' more item' + (v.length - 100 > 1 ? 's' : ''));
        if (isArray) {
          const extra = ObjectKeys(v).filter(function (k) {
            return !(String(k >>> 0) === k && k >>> 0 < 4294967295);
          });
          return braces('', '[', items.concat(inspectProps(v, extra, depth, seen)), ']');
        }
        return braces(v.constructor.name + '(' + v.length + ') ', '[', items, ']');
      }
      if (v instanceof Map) {
        const items = [];
        for (const [k, val] of v) items.push(inspect(k, depth + 1, seen) + ' => ' + inspect(val, depth + 1, seen));
        return braces('Map(' + v.size + ') ', '{', items, '}');
      }
      if (v instanceof Set) {
        const items = [];
        for (const k of v) items.push(inspect(k, depth + 1, seen));
        return braces('Set(' + v.size + ') ', '{', items, '}');
      }
      const proto = Object.getPrototypeOf(v);
      let prefix = '';
      if (proto === null) prefix = '[Object: null prototype] ';
      else if (proto !== Object.prototype) {
        const ctor = proto.constructor;
        const name = typeof ctor === 'function' ? ctor.name : '';
        if (name && name !== 'Object') prefix = name + ' ';
      }
      return braces(prefix, '{', inspectProps(v, ObjectKeys(v), depth, seen), '}');
    } finally {
      seen.pop();
    }
  }
  function fmtS(a) {
    if (typeof a === 'string') return a;
    if (typeof a === 'bigint') return a + 'n';
    if (typeof a === 'number') return fmtNumber(a);
    if (typeof a === 'symbol') return a.toString();
    if (a === null || a === undefined || typeof a === 'boolean') return String(a);
    if (
      typeof a === 'object' &&
      !Array.isArray(a) &&
      !(a instanceof Error) &&
      typeof a.toString === 'function' &&
      a.toString !== Object.prototype.toString
    )
      return String(a);
    return inspect(a, 1, []);
  }
  function fmtNum(a, parse) {
    if (typeof a === 'bigint') return a + 'n';
    if (typeof a === 'symbol' || (typeof a === 'object' && a !== null)) return 'NaN';
    return fmtNumber(parse(a));
  }
  function format(args) {
    if (args.length === 0) return '';
    const first = args[0];
    let i = 1;
    let out;
    if (typeof first === 'string') {
      if (args.length === 1) return first;
      out = '';
      let last = 0;
      for (let p = 0; p < first.length - 1; p++) {
        if (first.charCodeAt(p) !== 37) continue;
        const c = first[p + 1];
        let rep;
        if (c === '%') rep = '%';
        else if (i >= args.length) continue;
        else if (c === 's') rep = fmtS(args[i++]);
        else if (c === 'd') rep = fmtNum(args[i++], Number);
        else if (c === 'i')
          rep = fmtNum(args[i++], function (x) {
            return parseInt(x, 10);
          });
        else if (c === 'f') rep = fmtNum(args[i++], parseFloat);
        else if (c === 'j') {
          try {
            rep = JSON.stringify(args[i++]);
          } catch {
            rep = '[Circular]';
          }
        } else if (c === 'o' || c === 'O') rep = inspect(args[i++], 0, []);
        else if (c === 'c') {
          i++;
          rep = '';
        } else continue;
        out += first.slice(last, p) + rep;
        last = p + 2;
        p++;
      }
      out += first.slice(last);
    } else {
      out = inspect(first, 0, []);
    }
    for (; i < args.length; i++) {
      const a = args[i];
      out += ' ' + (typeof a === 'string' ? a : inspect(a, 0, []));
    }
    return out;
  }

  // ---------- output ----------
  let dead = false; // exited or died: nothing more is written or run
  let outParts = [],
    outSize = 0,
    errParts = [],
    errSize = 0;
  function flush() {
    if (outParts.length) {
      const s = outParts.join('');
      outParts = [];
      outSize = 0;
      hostWrite(1, s);
    }
    if (errParts.length) {
      const s = errParts.join('');
      errParts = [];
      errSize = 0;
      hostWrite(2, s);
    }
  }
  function emitText(fd, s) {
    if (dead || s.length === 0) return;
    if (fd === 1) {
      outParts.push(s);
      outSize += s.length;
      if (outSize >= 65536) flush();
    } else {
      errParts.push(s);
      errSize += s.length;
      if (errSize >= 65536) flush();
    }
  }
  function chunkText(chunk, what) {
    if (typeof chunk === 'string') return chunk;
    if (chunk instanceof Uint8Array) return decodeBytes(chunk, 'utf8', 0, chunk.length);
    throw new TypeError(
      'The "' +
        what +
        '" argument must be of type string or an instance of Buffer or Uint8Array. Received ' +
        describe(chunk),
    );
  }
  class WriteStream extends EventEmitter {
    constructor(fd) {
      super();
      this.fd = fd;
      this.writable = true;
      this.isTTY = false;
    }
    write(chunk, enc, cb) {
      emitText(this.fd, chunkText(chunk, 'chunk'));
      const done = typeof enc === 'function' ? enc : cb;
      if (typeof done === 'function') process.nextTick(done);
      return true;
    }
    end(chunk, enc, cb) {
      if (typeof chunk === 'function') {
        cb = chunk;
        chunk = undefined;
      }
      if (chunk !== undefined && chunk !== null) this.write(chunk);
      const done = typeof enc === 'function' ? enc : cb;
      if (typeof done === 'function') process.nextTick(done);
      return this;
    }
    cork() {}
    uncork() {}
    setDefaultEncoding() {
      return this;
    }
  }

  // ---------- microtasks, immediates, timers (virtual clock) ----------
  let pendingFatal = NONE;
  function guarded(fn, self, args) {
    if (dead) return;
    try {
      fn.apply(self, args);
    } catch (e) {
      if (pendingFatal === NONE) pendingFatal = e;
      dead = true;
    }
  }
  // process.nextTick callbacks run right after the current macrotask, before promise callbacks (as in Node);
  // ticks queued from a microtask are drained by a microtask.
  const ticks = [];
  let tickHead = 0;
  let inMacrotask = false;
  let tickDrainScheduled = false;
  function drainTicks() {
    tickDrainScheduled = false;
    while (tickHead < ticks.length && !dead) {
      const t = ticks[tickHead];
      ticks[tickHead++] = undefined;
      guarded(t.fn, undefined, t.args);
    }
    ticks.length = 0;
    tickHead = 0;
  }
  function macrotask(fn, self, args) {
    inMacrotask = true;
    try {
      fn.apply(self, args);
    } finally {
      inMacrotask = false;
    }
    drainTicks();
  }
  function queueMicrotask(fn) {
    if (typeof fn !== 'function')
      throw new TypeError('The "callback" argument must be of type function. Received ' + describe(fn));
    promiseThen.call(resolved, function () {
      guarded(fn, undefined, []);
    });
  }
  const immediates = [];
  let immediateHead = 0;
  class Immediate {
    constructor(fn, args) {
      this._onImmediate = fn;
      this._args = args;
      this._active = true;
    }
    ref() {
      return this;
    }
    unref() {
      return this;
    }
    hasRef() {
      return true;
    }
  }
  function setImmediate(fn, ...args) {
    if (typeof fn !== 'function')
      throw new TypeError('The "callback" argument must be of type function. Received ' + describe(fn));
    const im = new Immediate(fn, args);
    immediates.push(im);
    return im;
  }
  function clearImmediate(im) {
    if (im instanceof Immediate) im._active = false;
  }

  let now = 0; // virtual milliseconds since start
  let timerSeq = 0;
  let refTimers = 0; // active timers that keep the program alive
  const timersById = new Map();
  const heap = []; // entries {due, seq, timer}; stale entries are skipped
  function heapLess(a, b) {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }
  function heapPush(e) {
    heap.push(e);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!heapLess(e, heap[p])) break;
      heap[i] = heap[p];
      i = p;
    }
    heap[i] = e;
  }
  function heapPop() {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1,
          r = l + 1;
        let m = i;
        let best = last;
        if (l < heap.length && heapLess(heap[l], best)) {
          m = l;
          best = heap[l];
        }
        if (r < heap.length && heapLess(heap[r], best)) m = r;
        if (m === i) break;
        heap[i] = heap[m];
        i = m;
      }
      heap[i] = last;
    }
    return top;
  }
  class Timeout {
    constructor(fn, ms, args, repeat) {
      this._id = ++timerSeq;
      this._onTimeout = fn;
      this._args = args;
      this._repeat = repeat;
      this._ms = ms;
      this._active = true;
      this._ref = true;
      refTimers++;
      timersById.set(this._id, this);
      this._schedule();
    }
    _schedule() {
      this._seq = ++timerSeq;
      heapPush({ due: now + this._ms, seq: this._seq, timer: this });
    }
    ref() {
      if (!this._ref) {
        this._ref = true;
        if (this._active) refTimers++;
      }
      return this;
    }
    unref() {
      if (this._ref) {
        this._ref = false;
        if (this._active) refTimers--;
      }
      return this;
    }
    hasRef() {
      return this._ref;
    }
    refresh() {
      if (this._active) this._schedule();
      return this;
    }
    close() {
      clearTimer(this);
      return this;
    }
    [Symbol.toPrimitive]() {
      return this._id;
    }
  }
  function delay(ms) {
    const d = Number(ms);
    return d >= 1 && d <= 2147483647 ? Math.floor(d) : 1;
  }
  function setTimer(fn, ms, args, repeat) {
    if (typeof fn !== 'function')
      throw new TypeError('The "callback" argument must be of type function. Received ' + describe(fn));
    return new Timeout(fn, delay(ms), args, repeat);
  }
  function clearTimer(t) {
    const timer = t instanceof Timeout ? t : timersById.get(typeof t === 'number' ? t : Number(t));
    if (!timer || !timer._active) return;
    timer._active = false;
    if (timer._ref) refTimers--;
    timersById.delete(timer._id);
  }
  function setTimeout(fn, ms, ...args) {
    return setTimer(fn, ms, args, false);
  }
  function setInterval(fn, ms, ...args) {
    return setTimer(fn, ms, args, true);
  }

  // ---------- stdin ----------
  let stdinDone = false; // all of stdin has been consumed
  let stdinBytes = null;
  let stdinPos = 0; // bytes consumed by fs.readSync
  function stdinBuffer() {
    if (stdinBytes === null) {
      const u = utf8Encode(input);
      stdinBytes = new Buffer(u.buffer, 0, u.length);
      sourceText.set(stdinBytes, input);
    }
    return stdinBytes;
  }
  /** The rest of stdin, as text or bytes; afterwards stdin is at EOF. */
  function takeStdin(asText) {
    if (stdinDone) return asText ? '' : new Buffer(0);
    stdinDone = true;
    if (stdinPos === 0) return asText ? input : stdinBuffer();
    const rest = stdinBuffer().subarray(stdinPos);
    stdinPos = stdinBytes.length;
    return asText ? decodeBytes(rest, 'utf8', 0, rest.length) : rest;
  }
  const ENC = Symbol('encoding'),
    FLOW = Symbol('flowing'),
    READABLE = Symbol('readable'),
    PENDING = Symbol('pending');
  let stdinStage = 0; // 0: nothing delivered, 1: data delivered, 2: end delivered
  const readlines = [];
  class ReadStream extends EventEmitter {
    constructor() {
      super();
      this.fd = 0;
      this.readable = true;
      this.isTTY = undefined;
      this[ENC] = null;
      this[FLOW] = null;
      this[READABLE] = false;
      this[PENDING] = null;
    }
    [ADDED](name) {
      if (name === 'data' && this[FLOW] !== false) this[FLOW] = true;
      if (name === 'readable') this[READABLE] = true;
    }
    setEncoding(enc) {
      this[ENC] = normEnc(enc);
      return this;
    }
    resume() {
      this[FLOW] = true;
      return this;
    }
    pause() {
      this[FLOW] = false;
      return this;
    }
    isPaused() {
      return this[FLOW] === false;
    }
    read() {
      const p = this[PENDING];
      this[PENDING] = null;
      return p;
    }
    unref() {
      return this;
    }
    ref() {
      return this;
    }
    destroy() {
      stdinDone = true;
      stdinStage = 2;
      return this;
    }
    [Symbol.asyncIterator]() {
      this.resume();
      return eventIterator(this, 'data', 'end', null);
    }
  }
  function stdinWanted() {
    if (stdinStage >= 2) return false;
    return stdin[FLOW] === true || stdin[READABLE] || readlines.length > 0;
  }
  function stdinStep() {
    if (stdinStage === 0) {
      stdinStage = 1;
      const text = takeStdin(true);
      if (text.length > 0) {
        const chunk =
          stdin[ENC] === null
            ? text === input
              ? stdinBuffer()
              : Buffer.from(text)
            : stdin[ENC] === 'utf8'
              ? text
              : decodeBytes(Buffer.from(text), stdin[ENC], 0, Buffer.byteLength(text));
        if (stdin[READABLE]) {
          stdin[PENDING] = chunk;
          stdin.emit('readable');
        }
        if (stdin[FLOW] === true) stdin.emit('data', chunk);
        for (const rl of readlines.slice()) rl._feed(text);
      }
      return;
    }
    stdinStage = 2;
    stdinDone = true;
    if (stdin[READABLE]) stdin.emit('readable');
    stdin.emit('end');
    for (const rl of readlines.slice()) rl._end();
    stdin.emit('close');
  }
  function eventIterator(emitter, dataEvent, endEvent, onReturn) {
    const queue = [];
    let head = 0;
    let done = false;
    let waiting = null;
    function onData(v) {
      if (waiting) {
        const w = waiting;
        waiting = null;
        w({ value: v, done: false });
      } else queue.push(v);
    }
    function onEnd() {
      done = true;
      if (waiting) {
        const w = waiting;
        waiting = null;
        w({ value: undefined, done: true });
      }
    }
    emitter.on(dataEvent, onData);
    emitter.on(endEvent, onEnd);
    return {
      next() {
        if (head < queue.length) {
          const v = queue[head];
          queue[head++] = undefined;
          return Promise.resolve({ value: v, done: false });
        }
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise(function (resolve) {
          waiting = resolve;
        });
      },
      return() {
        done = true;
        emitter.off(dataEvent, onData);
        emitter.off(endEvent, onEnd);
        if (onReturn) onReturn();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  // ---------- readline ----------
  class Interface extends EventEmitter {
    constructor(inputStream, output) {
      super();
      this.input = inputStream;
      this.output = output;
      this.terminal = false;
      this.line = '';
      this.closed = false;
      this._partial = '';
      this._question = null;
      this._prompt = '> ';
      if (inputStream === stdin) readlines.push(this);
    }
    _feed(text) {
      if (this.closed) return;
      const s = this._partial + text;
      const re = /\r\n|\n|\r/g;
      let last = 0;
      let m;
      while ((m = re.exec(s)) !== null) {
        const line = s.slice(last, m.index);
        last = re.lastIndex;
        this._line(line);
        if (this.closed || dead) return;
      }
      this._partial = s.slice(last);
    }
    _line(line) {
      const q = this._question;
      if (q) {
        this._question = null;
        q(line);
      } else this.emit('line', line);
    }
    _end() {
      if (this.closed) return;
      if (this._partial.length > 0) {
        const p = this._partial;
        this._partial = '';
        this._line(p);
      }
      this.close();
    }
    close() {
      if (this.closed) return;
      this.closed = true;
      const i = readlines.indexOf(this);
      if (i !== -1) readlines.splice(i, 1);
      this.emit('close');
    }
    question(query, opts, cb) {
      const done = typeof opts === 'function' ? opts : cb;
      emitText(1, String(query));
      this._question = typeof done === 'function' ? done : null;
    }
    setPrompt(p) {
      this._prompt = String(p);
    }
    getPrompt() {
      return this._prompt;
    }
    prompt() {
      emitText(1, this._prompt);
    }
    write(data) {
      if (typeof data === 'string') this._feed(data);
    }
    pause() {
      return this;
    }
    resume() {
      return this;
    }
    [Symbol.asyncIterator]() {
      const self = this;
      return eventIterator(this, 'line', 'close', function () {
        self.close();
      });
    }
  }
  const readline = {
    Interface: Interface,
    createInterface: function (opts, output) {
      const o = opts !== null && typeof opts === 'object' && 'input' in opts ? opts : { input: opts, output: output };
      return new Interface(o.input, o.output);
    },
  };

  // ---------- fs (stdin, stdout and stderr only) ----------
  function fsError(code, desc, syscall, path) {
    const e = new Error(code + ': ' + desc + ', ' + syscall + (path === undefined ? '' : " '" + path + "'"));
    e.code = code;
    e.syscall = syscall;
    if (path !== undefined) e.path = path;
    return e;
  }
  function isStdin(p) {
    return p === 0 || p === '/dev/stdin' || p === '/proc/self/fd/0';
  }
  function outFd(p) {
    return p === 1 || p === '/dev/stdout' ? 1 : p === 2 || p === '/dev/stderr' ? 2 : 0;
  }
  function encodingOf(options) {
    return typeof options === 'string'
      ? options
      : options !== null && typeof options === 'object'
        ? options.encoding
        : undefined;
  }
  function readFileSync(path, options) {
    if (!isStdin(path)) throw fsError('ENOENT', 'no such file or directory', 'open', path);
    const enc = encodingOf(options);
    if (enc === undefined || enc === null) return takeStdin(false);
    const e = normEnc(enc);
    if (e === 'utf8') return takeStdin(true);
    const bytes = takeStdin(false);
    return decodeBytes(bytes, e, 0, bytes.length);
  }
  function writeData(fd, data, a, b) {
    let text;
    if (typeof data === 'string') text = data;
    else if (data instanceof Uint8Array) {
      const off = typeof a === 'number' ? a : 0;
      const len = typeof b === 'number' ? b : data.length - off;
      text = decodeBytes(data, 'utf8', off, Math.min(data.length, off + len));
    } else
      throw new TypeError(
        'The "buffer" argument must be of type string or an instance of Buffer, TypedArray, or DataView. Received ' +
          describe(data),
      );
    emitText(fd, text);
    return Buffer.byteLength(text);
  }
  const fs = {
    readFileSync: readFileSync,
    readSync: function (fd, buffer, offset, length) {
      if (fd !== 0) throw fsError('EBADF', 'bad file descriptor', 'read');
      if (offset !== null && typeof offset === 'object') {
        length = offset.length;
        offset = offset.offset;
      }
      const off = offset === undefined || offset === null ? 0 : offset;
      const len = length === undefined || length === null ? buffer.byteLength - off : length;
      if (stdinDone) return 0;
      const src = stdinBuffer();
      const n = Math.max(0, Math.min(len, src.length - stdinPos));
      new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength).set(
        src.subarray(stdinPos, stdinPos + n),
        off,
      );
      stdinPos += n;
      if (stdinPos >= src.length) stdinDone = true;
      return n;
    },
    writeSync: function (fd, data, a, b) {
      if (fd !== 1 && fd !== 2) throw fsError('EBADF', 'bad file descriptor', 'write');
      return writeData(fd, data, a, b);
    },
    writeFileSync: function (path, data) {
      const fd = outFd(path);
      if (!fd) throw fsError('EROFS', 'read-only file system', 'open', path);
      writeData(fd, data);
    },
    appendFileSync: function (path, data) {
      fs.writeFileSync(path, data);
    },
    existsSync: function (p) {
      return isStdin(p) || outFd(p) !== 0;
    },
    readFile: function (path, options, cb) {
      const done = typeof options === 'function' ? options : cb;
      let err = null,
        data;
      try {
        data = readFileSync(path, typeof options === 'function' ? undefined : options);
      } catch (e) {
        err = e;
      }
      setImmediate(function () {
        done(err, data);
      });
    },
  };

  // ---------- process, console, require ----------
  const stdin = new ReadStream();
  const process = new EventEmitter();
  let exiting = false;
  let exitCode = 0;
  let errorText;
  function toExitCode(v) {
    if (v === undefined || v === null) return 0;
    const n = Number(v);
    return Number.isFinite(n) ? Math.trunc(n) & 255 : 1;
  }
  const startMs = Date.now();
  function hrtime(prev) {
    const t = Date.now() - startMs + now;
    let s = Math.floor(t / 1000),
      ns = Math.round((t % 1000) * 1e6);
    if (Array.isArray(prev)) {
      s -= prev[0];
      ns -= prev[1];
      if (ns < 0) {
        s--;
        ns += 1e9;
      }
    }
    return [s, ns];
  }
  hrtime.bigint = function () {
    return BigInt(Math.round((Date.now() - startMs + now) * 1e6));
  };
  Object.assign(process, {
    title: 'node',
    version: 'v24.0.0',
    versions: { node: '24.0.0' },
    platform: 'linux',
    arch: 'x64',
    pid: 1,
    ppid: 0,
    argv: ['/usr/local/bin/node', '/box/main.js'],
    argv0: 'node',
    execArgv: [],
    env: {},
    exitCode: undefined,
    stdin: stdin,
    stdout: new WriteStream(1),
    stderr: new WriteStream(2),
    hrtime: hrtime,
    cwd: function () {
      return '/box';
    },
    uptime: function () {
      return (Date.now() - startMs + now) / 1000;
    },
    memoryUsage: function () {
      return { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
    },
    nextTick: function (fn, ...args) {
      if (typeof fn !== 'function')
        throw new TypeError('The "callback" argument must be of type function. Received ' + describe(fn));
      ticks.push({ fn: fn, args: args });
      if (!inMacrotask && !tickDrainScheduled) {
        tickDrainScheduled = true;
        promiseThen.call(resolved, drainTicks);
      }
    },
    exit: function (code) {
      if (dead) return;
      let c = toExitCode(code === undefined ? process.exitCode : code);
      if (!exiting) {
        exiting = true;
        process.exitCode = c;
        try {
          process.emit('exit', c);
        } catch {
          /* like Node: the exit proceeds */
        }
        c = toExitCode(process.exitCode);
      }
      flush();
      dead = true;
      hostExit(c); // the host disposes the isolate: nothing after this runs
      throw new Error('process.exit did not stop the program');
    },
  });
  function fatal(e) {
    let text, first;
    try {
      if (e !== null && typeof e === 'object' && typeof e.stack === 'string') {
        text = e.stack;
        first = String(e);
      } else {
        text = 'Uncaught ' + inspect(e, 0, []);
        first = text;
      }
    } catch {
      text = first = 'Uncaught exception';
    }
    dead = false;
    emitText(2, text + '\n');
    flush();
    dead = true;
    exitCode = 1;
    errorText = first;
  }
  const con = {};
  function toOut() {
    emitText(1, format(Array.prototype.slice.call(arguments)) + '\n');
  }
  function toErr() {
    emitText(2, format(Array.prototype.slice.call(arguments)) + '\n');
  }
  const timeLabels = new Map(),
    counts = new Map();
  Object.assign(con, {
    log: toOut,
    info: toOut,
    debug: toOut,
    error: toErr,
    warn: toErr,
    trace: function () {
      emitText(2, 'Trace: ' + format(Array.prototype.slice.call(arguments)) + '\n');
    },
    dir: function (v) {
      emitText(1, inspect(v, 0, []) + '\n');
    },
    table: function (v) {
      emitText(1, inspect(v, 0, []) + '\n');
    },
    assert: function (cond, ...rest) {
      if (!cond) emitText(2, 'Assertion failed' + (rest.length ? ': ' + format(rest) : '') + '\n');
    },
    time: function (label) {
      timeLabels.set(label === undefined ? 'default' : String(label), Date.now());
    },
    timeEnd: function (label) {
      con.timeLog(label);
      timeLabels.delete(label === undefined ? 'default' : String(label));
    },
    timeLog: function (label) {
      const l = label === undefined ? 'default' : String(label);
      const t = timeLabels.get(l);
      if (t !== undefined) emitText(1, l + ': ' + (Date.now() - t).toFixed(3) + 'ms\n');
    },
    count: function (label) {
      const l = label === undefined ? 'default' : String(label);
      const n = (counts.get(l) || 0) + 1;
      counts.set(l, n);
      emitText(1, l + ': ' + n + '\n');
    },
    group: toOut,
    groupCollapsed: toOut,
    groupEnd: function () {},
  });
  const modules = { fs: fs, readline: readline, events: EventEmitter, process: process };
  const module = {
    id: '.',
    path: '/box',
    filename: '/box/main.js',
    loaded: false,
    children: [],
    paths: [],
    exports: {},
  };
  function require(name) {
    const key = String(name).replace(/^node:/, '');
    if (hasOwn.call(modules, key)) return modules[key];
    const e = new Error('module not available in the sandbox: ' + name);
    e.code = 'MODULE_NOT_FOUND';
    throw e;
  }
  require.main = module;
  require.cache = {};
  require.resolve = function (name) {
    return require(name) && String(name);
  };
  module.require = require;

  const globals = {
    global: G,
    process: process,
    console: con,
    Buffer: Buffer,
    TextEncoder: TextEncoder,
    TextDecoder: TextDecoder,
    setTimeout: setTimeout,
    clearTimeout: clearTimer,
    setInterval: setInterval,
    clearInterval: clearTimer,
    setImmediate: setImmediate,
    clearImmediate: clearImmediate,
    queueMicrotask: queueMicrotask,
  };
  for (const k of ObjectKeys(globals))
    Object.defineProperty(G, k, { value: globals[k], writable: true, configurable: true, enumerable: false });

  // ---------- control functions for the host ----------
  function start(programFn) {
    try {
      macrotask(programFn, module.exports, [module.exports, require, module, '/box/main.js', '/box']);
      module.loaded = true;
    } catch (e) {
      fatal(e);
    }
  }
  function step() {
    if (pendingFatal !== NONE) {
      const e = pendingFatal;
      pendingFatal = NONE;
      fatal(e);
      return false;
    }
    if (dead) return false;
    try {
      if (stdinWanted()) {
        macrotask(stdinStep, undefined, []);
        return true;
      }
      while (immediateHead < immediates.length) {
        const im = immediates[immediateHead];
        immediates[immediateHead++] = undefined;
        if (im._active) {
          im._active = false;
          macrotask(im._onImmediate, im, im._args);
          return true;
        }
      }
      immediates.length = 0;
      immediateHead = 0;
      while (refTimers > 0 && heap.length > 0) {
        const e = heapPop();
        const t = e.timer;
        if (!t._active || t._seq !== e.seq) continue;
        if (e.due > now) now = e.due;
        if (t._repeat) t._schedule();
        else {
          t._active = false;
          if (t._ref) refTimers--;
          timersById.delete(t._id);
        }
        macrotask(t._onTimeout, t, t._args);
        return true;
      }
      return false;
    } catch (e) {
      fatal(e);
      return false;
    }
  }
  function finish() {
    if (pendingFatal !== NONE) {
      const e = pendingFatal;
      pendingFatal = NONE;
      fatal(e);
    }
    if (!dead) {
      exiting = true;
      try {
        process.emit('exit', toExitCode(process.exitCode));
      } catch (e) {
        fatal(e);
      }
      if (!dead) {
        exitCode = toExitCode(process.exitCode);
        flush();
        dead = true;
      }
    }
    return { exitCode: exitCode, error: errorText === undefined ? null : String(errorText) };
  }
  return { start: start, step: step, finish: finish };
});
