// waflow preview: renders the screen views the server computes (the simulator's
// View: If/Switch resolved, dynamic properties filled in) the way WhatsApp
// shows them, collects what the user enters, and sends each action to the
// preview API, which runs it through the simulator.
"use strict";
(function () {
  const app = document.getElementById("app");
  const flow = app.dataset.flow;
  const screenEl = document.getElementById("screen");
  const footerEl = document.getElementById("footer");
  const titleEl = document.getElementById("title");
  const backEl = document.getElementById("back");
  const snackEl = document.getElementById("snackbar");
  const problemsEl = document.getElementById("problems");
  const logEl = document.getElementById("log");

  let cur = null;       // the last answer: {state, flow_token, token_seal, view, step}
  let getters = {};     // input name -> function returning its value
  let busy = false;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  async function call(path, body) {
    const r = await fetch("/preview/api/flows/" + encodeURIComponent(flow) + "/" + path, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}),
    });
    let j = null;
    try { j = await r.json(); } catch (e) { j = { error: "HTTP " + r.status }; }
    if (!r.ok) throw new Error(j.error || "HTTP " + r.status);
    return j;
  }

  // watchSource restarts the flow when its Flow JSON changes: "waflow
  // preview FILE" reloads the file it was given when it is saved.
  let source = null;
  async function watchSource() {
    if (document.visibilityState === "visible") {
      try {
        const r = await fetch("/preview/api/flows/" + encodeURIComponent(flow) + "/source", { cache: "no-store" });
        if (r.ok) {
          const text = await r.text();
          if (source !== null && text !== source) {
            const li = el("li", "", "Flow JSON changed: started again");
            li.id = "reloaded";
            source = text;
            await start();
            logEl.appendChild(li);
          }
          source = text;
        }
      } catch (e) { /* the server is restarting: try again later */ }
    }
    setTimeout(watchSource, 1000);
  }

  async function start() {
    logEl.textContent = "";
    try { show(await call("start"), false); } catch (e) { problems([e.message]); }
  }

  // act sends an action with the current form values.
  async function act(op, extra) {
    if (busy || !cur) return;
    busy = true;
    app.classList.add("busy");
    const body = Object.assign({ state: cur.state, flow_token: cur.flow_token, token_seal: cur.token_seal, form: collect(), op: op }, extra || {});
    try { show(await call("act", body), op === "render"); } catch (e) { problems([e.message]); }
    busy = false;
    app.classList.remove("busy");
  }

  function collect() {
    const form = {};
    for (const name in getters) form[name] = getters[name]();
    return form;
  }

  // show renders an answer. keepTyping keeps what is in the inputs now (a
  // re-render after a change must not undo typing that went on meanwhile).
  function show(ans, keepTyping) {
    const live = keepTyping ? collect() : null;
    const focused = document.activeElement && document.activeElement.id;
    cur = ans;
    if (ans.step) logStep(ans.step);
    const st = ans.state;
    problems(ans.step && ans.step.violations ? ans.step.violations.map(v => v.rule + (v.pointer ? " at " + v.pointer : "") + ": " + v.message) : []);
    snackEl.hidden = true;
    if (st.closed) return done(st);
    const v = ans.view;
    if (!v) return;
    if (live) for (const it of v.items) if (it.name && it.name in live && live[it.name] !== null) it.value = live[it.name];
    render(v, ans.step);
    if (focused) {
      const f = document.getElementById(focused);
      if (f) f.focus();
    }
  }

  function problems(list) {
    problemsEl.textContent = "";
    problemsEl.hidden = list.length === 0;
    if (!list.length) return;
    problemsEl.appendChild(el("strong", "", "The endpoint's answer was rejected, as the WhatsApp client would:"));
    const ul = el("ul");
    for (const p of list) ul.appendChild(el("li", "", p));
    problemsEl.appendChild(ul);
  }

  function snackbar(text) {
    if (!text) return;
    snackEl.textContent = text;
    snackEl.hidden = false;
    setTimeout(() => { snackEl.hidden = true; }, 6000);
  }

  function done(st) {
    getters = {};
    footerEl.hidden = true;
    backEl.hidden = true;
    screenEl.textContent = "";
    const box = el("div", "done");
    box.id = "done";
    if (st.completion) {
      titleEl.textContent = "Completed";
      box.appendChild(el("div", "check", "\u2714"));
      box.appendChild(el("h2", "", "Flow completed"));
      box.appendChild(el("p", "", st.completion.via === "SUCCESS"
        ? "The endpoint answered SUCCESS. The completion webhook carries this response_json:"
        : "The complete action ran on the phone. The completion webhook carries this response_json:"));
      // The flow token is a credential: shown hidden, as simulate does.
      const shown = Object.assign({}, st.completion.response_json);
      for (const k of ["flow_token", "flow_token_signature"]) if (k in shown) shown[k] = "(hidden)";
      const pre = el("pre", "", JSON.stringify(shown, null, 2));
      pre.id = "completion";
      box.appendChild(pre);
    } else {
      titleEl.textContent = "Closed";
      box.appendChild(el("h2", "", "The endpoint closed the flow (427)"));
      box.appendChild(el("p", "", st.close_message || "Something went wrong. (no message: a generic error)"));
    }
    const again = el("button", "link", "Start again");
    again.type = "button";
    again.addEventListener("click", start);
    box.appendChild(again);
    screenEl.appendChild(box);
  }

  let footerItem = null; // the Footer of the screen shown, for updateFooter
  let required = [];     // names of the shown, enabled, required inputs

  // updateFooter disables the Footer while a required input is empty, as
  // the WhatsApp client does (the button turns active once every required
  // field has a value); the Footer's own enabled property still applies.
  function updateFooter() {
    const b = document.getElementById("footer-button");
    if (!b || !footerItem) return;
    const missing = required.filter(name => {
      const g = getters[name];
      if (!g) return false;
      const val = g();
      return val === null || val === undefined || val === "" || val === false || (Array.isArray(val) && val.length === 0);
    });
    b.disabled = !footerItem.enabled || missing.length > 0;
    b.title = missing.length ? "Fill in the required fields first" : "";
  }

  function render(v, step) {
    getters = {};
    footerItem = null;
    required = v.items.filter(it => it.name && it.required && it.enabled !== false).map(it => it.name);
    titleEl.textContent = v.title || v.screen;
    backEl.hidden = !v.can_go_back;
    screenEl.textContent = "";
    screenEl.dataset.screen = v.screen;
    footerEl.textContent = "";
    footerEl.hidden = true;
    const blocked = {};
    if (step && step.blocked) for (const b of step.blocked) blocked[b.component || b.key] = b.message;
    for (const it of v.items) {
      const node = item(it, v, blocked[it.name]);
      if (node) screenEl.appendChild(node);
    }
    updateFooter();
    snackbar(v.error_message);
  }

  // The components of protocol.md 6.7.
  function item(it, v, blockedMsg) {
    switch (it.type) {
      case "TextHeading": return text("h2", "heading", it);
      case "TextSubheading": return text("h3", "subheading", it);
      case "TextBody": return text("p", "body", it);
      case "TextCaption": return text("p", "caption", it);
      case "RichText": return rich(it);
      case "TextInput": case "TextArea": return textInput(it, v, blockedMsg);
      case "Dropdown": return dropdown(it, v, blockedMsg);
      case "RadioButtonsGroup": case "CheckboxGroup": return choices(it, v, blockedMsg);
      case "ChipsSelector": return chips(it, v, blockedMsg);
      case "OptIn": return optIn(it, v, blockedMsg);
      case "DatePicker": case "CalendarPicker": return calendar(it, v, blockedMsg);
      case "PhotoPicker": case "DocumentPicker": return media(it, blockedMsg);
      case "Footer": footer(it); return null;
      case "EmbeddedLink": return link(it);
      case "Image": return image(it);
      case "ImageCarousel": return carousel(it);
      case "NavigationList": return navList(it);
    }
    return el("p", "caption", "(" + it.type + " is not shown in the preview)");
  }

  function text(tag, cls, it) {
    const e = el(tag, cls);
    if (it.font_weight) e.classList.add(it.font_weight);
    if (it.strikethrough) e.classList.add("strike");
    if (it.markdown) e.appendChild(markdown(it.text || "")); else e.textContent = it.text || "";
    return e;
  }

  function rich(it) {
    const d = el("div", "rich");
    d.appendChild(markdown(it.text || ""));
    return d;
  }

  // markdown renders the subset WhatsApp supports (headings, bold, italic,
  // strikethrough, lists, links, tables) without ever parsing HTML.
  function markdown(src) {
    const frag = document.createDocumentFragment();
    let list = null, table = null;
    for (const line of src.split("\n")) {
      if (/^\s*\|/.test(line)) {
        if (/^\s*\|[\s:|-]+\|\s*$/.test(line)) continue;
        if (!table) { table = el("table"); frag.appendChild(table); }
        const tr = el("tr");
        for (const cell of line.trim().replace(/^\||\|$/g, "").split("|")) { const td = el("td"); inline(td, cell.trim()); tr.appendChild(td); }
        table.appendChild(tr);
        continue;
      }
      table = null;
      let m;
      if ((m = /^\s*(?:[-*+]|\d+\.)\s+(.*)$/.exec(line))) {
        if (!list) { list = el(/^\s*\d/.test(line) ? "ol" : "ul"); frag.appendChild(list); }
        const li = el("li"); inline(li, m[1]); list.appendChild(li);
        continue;
      }
      list = null;
      if ((m = /^(#{1,2})\s+(.*)$/.exec(line))) { const h = el(m[1].length === 1 ? "h2" : "h3"); inline(h, m[2]); frag.appendChild(h); continue; }
      const p = el("div"); inline(p, line); frag.appendChild(p);
    }
    return frag;
  }

  function inline(parent, s) {
    const re = /(\*\*[^*]+\*\*|\*[^*]+\*|~~[^~]+~~|_[^_]+_|\[[^\]]+\]\([^)]+\))/;
    for (const part of s.split(re)) {
      if (!part) continue;
      let m;
      if ((m = /^\*\*(.+)\*\*$/.exec(part))) parent.appendChild(el("strong", "", m[1]));
      else if ((m = /^(?:\*|_)(.+)(?:\*|_)$/.exec(part))) parent.appendChild(el("em", "", m[1]));
      else if ((m = /^~~(.+)~~$/.exec(part))) parent.appendChild(el("del", "", m[1]));
      else if ((m = /^\[(.+)\]\((.+)\)$/.exec(part)) && /^https?:\/\//.test(m[2])) {
        const a = el("a", "", m[1]); a.href = m[2]; a.target = "_blank"; a.rel = "noopener"; parent.appendChild(a);
      } else parent.appendChild(document.createTextNode(part));
    }
  }

  function field(it, blockedMsg) {
    const f = el("div", "field");
    f.id = "field-" + it.name;
    const label = el("label", "", it.label || "");
    label.htmlFor = "in-" + it.name;
    if (it.required) label.appendChild(el("span", "req", "*"));
    f.appendChild(label);
    return f;
  }

  function finish(f, it, blockedMsg) {
    if (it.helper) f.appendChild(el("div", "helper", it.helper));
    const msg = blockedMsg || it.error;
    if (msg) {
      const e = el("div", "error", msg);
      e.id = "error-" + it.name;
      f.appendChild(e);
      f.classList.add("invalid");
    }
    return f;
  }

  // changed re-renders a screen that depends on form values, or runs an
  // on-select-action.
  function changed(it, v) {
    if (it.on_select !== undefined && it.on_select !== null) return act("select", { name: it.name });
    if (v.reactive) return act("render");
  }

  function textInput(it, v, blockedMsg) {
    const f = field(it, blockedMsg);
    let input;
    if (it.type === "TextArea") {
      input = el("textarea");
    } else {
      input = el("input");
      input.type = { email: "email", phone: "tel", password: "password", passcode: "password" }[it.input_type] || "text";
      if (it.input_type === "number" || it.input_type === "passcode") input.inputMode = "decimal";
    }
    input.id = "in-" + it.name;
    input.name = it.name;
    input.disabled = !it.enabled;
    if (it.max_chars) input.maxLength = it.max_chars; // the phone stops typing at the limit
    input.value = it.value === undefined || it.value === null ? "" : String(it.value);
    const counter = el("span", "counter", input.value.length + "/" + it.max_chars);
    f.firstChild.appendChild(counter);
    input.addEventListener("input", () => { counter.textContent = input.value.length + "/" + it.max_chars; });
    input.addEventListener("change", () => changed(it, v));
    f.appendChild(input);
    getters[it.name] = () => (input.value === "" ? null : input.value);
    return finish(f, it, blockedMsg);
  }

  function dropdown(it, v, blockedMsg) {
    const f = field(it, blockedMsg);
    const sel = el("select");
    sel.id = "in-" + it.name;
    sel.disabled = !it.enabled;
    const none = el("option", "", "Select");
    none.value = "";
    sel.appendChild(none);
    for (const o of it.options || []) {
      const opt = el("option", "", o.title + (o.description ? " \u2014 " + o.description : ""));
      opt.value = o.id;
      opt.disabled = !o.enabled;
      if (it.value === o.id) opt.selected = true;
      sel.appendChild(opt);
    }
    sel.addEventListener("change", () => changed(it, v));
    f.appendChild(sel);
    getters[it.name] = () => (sel.value === "" ? null : sel.value);
    return finish(f, it, blockedMsg);
  }

  function choices(it, v, blockedMsg) {
    const f = field(it, blockedMsg);
    if (it.description) f.appendChild(el("p", "description", it.description));
    const multi = it.type === "CheckboxGroup";
    const box = el("div", "options");
    box.id = "in-" + it.name;
    const inputs = [];
    const selected = multi ? (Array.isArray(it.value) ? it.value : []) : [it.value];
    for (const o of it.options || []) {
      const row = el("label", "option" + (o.enabled ? "" : " disabled"));
      const input = el("input");
      input.type = multi ? "checkbox" : "radio";
      input.name = "in-" + it.name;
      input.value = o.id;
      input.id = "opt-" + it.name + "-" + o.id;
      input.disabled = !o.enabled || !it.enabled;
      input.checked = selected.indexOf(o.id) >= 0;
      input.addEventListener("change", () => changed(it, v));
      if (o.image) { const img = el("img"); img.src = dataURL(o.image); img.alt = o.alt_text || ""; row.appendChild(img); }
      const t = el("span", "text", o.title);
      if (o.description) t.appendChild(el("span", "sub", o.description));
      if (o.metadata) t.appendChild(el("span", "sub", o.metadata));
      row.appendChild(t);
      row.appendChild(input);
      box.appendChild(row);
      inputs.push(input);
    }
    f.appendChild(box);
    getters[it.name] = () => {
      const on = inputs.filter(i => i.checked).map(i => i.value);
      if (multi) return on.length ? on : null;
      return on.length ? on[0] : null;
    };
    return finish(f, it, blockedMsg);
  }

  function chips(it, v, blockedMsg) {
    const f = field(it, blockedMsg);
    if (it.description) f.appendChild(el("p", "description", it.description));
    const box = el("div", "chips");
    box.id = "in-" + it.name;
    const on = new Set(Array.isArray(it.value) ? it.value : []);
    for (const o of it.options || []) {
      const b = el("button", "chip" + (on.has(o.id) ? " on" : ""), o.title);
      b.type = "button";
      b.id = "opt-" + it.name + "-" + o.id;
      b.disabled = !o.enabled || !it.enabled;
      b.addEventListener("click", () => {
        if (on.has(o.id)) on.delete(o.id); else if (!it.max_selected || on.size < it.max_selected) on.add(o.id);
        b.classList.toggle("on", on.has(o.id));
        changed(it, v);
      });
      box.appendChild(b);
    }
    f.appendChild(box);
    getters[it.name] = () => (on.size ? Array.from(on) : null);
    return finish(f, it, blockedMsg);
  }

  function optIn(it, v, blockedMsg) {
    const f = el("div", "field");
    f.id = "field-" + it.name;
    const row = el("div", "optin");
    const input = el("input");
    input.type = "checkbox";
    input.id = "in-" + it.name;
    input.checked = it.value === true;
    input.addEventListener("change", () => changed(it, v));
    const label = el("label", "", it.label);
    label.htmlFor = input.id;
    if (it.required) label.appendChild(el("span", "req", "*"));
    row.appendChild(input);
    const t = el("div");
    t.appendChild(label);
    if (it.action !== undefined && it.action !== null) t.appendChild(actionLink("Read more", it.action));
    row.appendChild(t);
    f.appendChild(row);
    getters[it.name] = () => input.checked;
    return finish(f, it, blockedMsg);
  }

  // calendar is a month grid: days outside min/max, unavailable dates and
  // days not in include-days are disabled; range mode takes two clicks.
  function calendar(it, v, blockedMsg) {
    const f = field(Object.assign({}, it, { label: it.label || (it.start_label ? it.start_label + " \u2013 " + it.end_label : "") }), blockedMsg);
    if (it.title) f.insertBefore(el("div", "", it.title), f.firstChild);
    if (it.description) f.appendChild(el("p", "description", it.description));
    const range = it.mode === "range";
    let start = null, end = null;
    if (range && it.value && typeof it.value === "object") { start = it.value["start-date"] || null; end = it.value["end-date"] || null; }
    else if (!range && typeof it.value === "string") start = it.value;
    const min = it.min_date || null, max = it.max_date || null;
    const off = new Set(it.unavailable_dates || []);
    const days = it.include_days || null;
    const first = start || min || iso(new Date());
    let month = new Date(first.slice(0, 7) + "-01T00:00:00Z");
    const box = el("div", "calendar");
    box.id = "in-" + it.name;
    const chosen = el("div", "chosen");
    // A DatePicker is a field that opens the calendar, as on the phone; a
    // CalendarPicker shows its calendar on the screen.
    let opener = null;
    if (it.type === "DatePicker") {
      opener = el("button", "datefield");
      opener.type = "button";
      opener.id = "open-" + it.name;
      opener.disabled = !it.enabled;
      opener.setAttribute("aria-haspopup", "dialog");
      opener.setAttribute("aria-expanded", "false");
      opener.addEventListener("click", () => {
        box.hidden = !box.hidden;
        opener.setAttribute("aria-expanded", String(!box.hidden));
      });
      f.appendChild(opener);
      box.hidden = true;
      box.classList.add("popup");
    }
    f.appendChild(box);
    function allowed(d) {
      if (min && d < min) return false;
      if (max && d > max) return false;
      if (off.has(d)) return false;
      if (days && days.length) {
        const dow = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][new Date(d + "T00:00:00Z").getUTCDay()];
        if (days.indexOf(dow) < 0) return false;
      }
      return true;
    }
    function draw() {
      box.textContent = "";
      const head = el("div", "month");
      const prev = el("button", "icon", "\u2039"); prev.type = "button"; prev.id = "prev-" + it.name;
      const next = el("button", "icon", "\u203a"); next.type = "button"; next.id = "next-" + it.name;
      prev.addEventListener("click", () => { month.setUTCMonth(month.getUTCMonth() - 1); draw(); });
      next.addEventListener("click", () => { month.setUTCMonth(month.getUTCMonth() + 1); draw(); });
      head.appendChild(prev);
      head.appendChild(el("span", "", month.toLocaleString("en", { month: "long", year: "numeric", timeZone: "UTC" })));
      head.appendChild(next);
      box.appendChild(head);
      const grid = el("div", "grid");
      for (const d of ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]) grid.appendChild(el("span", "dow", d));
      const lead = (month.getUTCDay() + 6) % 7;
      for (let i = 0; i < lead; i++) grid.appendChild(el("span"));
      const m = month.getUTCMonth();
      for (let d = new Date(month); d.getUTCMonth() === m; d.setUTCDate(d.getUTCDate() + 1)) {
        const day = iso(d);
        const b = el("button", "day", String(d.getUTCDate()));
        b.type = "button";
        b.id = "day-" + it.name + "-" + day;
        b.disabled = !it.enabled || !allowed(day);
        if (day === start || day === end) b.classList.add("on");
        if (range && start && end && day > start && day < end) b.classList.add("between");
        b.addEventListener("click", () => {
          if (!range) start = day;
          else if (!start || end || day < start) { start = day; end = null; }
          else end = day;
          draw();
          if (opener) { box.hidden = true; opener.setAttribute("aria-expanded", "false"); }
          changed(it, v);
        });
        grid.appendChild(b);
      }
      box.appendChild(grid);
      chosen.textContent = range ? (start ? start + " \u2013 " + (end || "?") : "No dates chosen") : (start || "No date chosen");
      box.appendChild(chosen);
      if (opener) {
        opener.textContent = start || "Select date";
        opener.classList.toggle("empty", !start);
      }
    }
    draw();
    getters[it.name] = () => {
      if (!range) return start;
      return start ? { "start-date": start, "end-date": end || start } : null;
    };
    return finish(f, it, blockedMsg);
  }

  function media(it, blockedMsg) {
    const f = field(it, blockedMsg);
    if (it.description) f.appendChild(el("p", "description", it.description));
    f.appendChild(el("div", "media", (it.type === "PhotoPicker" ? "Photos" : "Documents") +
      " are picked on the phone; the preview cannot attach files" +
      (it.max_uploads ? " (up to " + it.max_uploads + ")" : "") + "."));
    return finish(f, it, blockedMsg);
  }

  function footer(it) {
    footerItem = it;
    footerEl.hidden = false;
    const b = el("button", "", it.label);
    b.type = "button";
    b.id = "footer-button";
    b.disabled = !it.enabled;
    b.addEventListener("click", () => act("submit"));
    footerEl.appendChild(b);
    if (it.left_caption || it.right_caption || it.center_caption) {
      const c = el("div", "captions" + (it.center_caption ? " center" : ""));
      if (it.center_caption) c.appendChild(el("span", "", it.center_caption));
      else { c.appendChild(el("span", "", it.left_caption || "")); c.appendChild(el("span", "", it.right_caption || "")); }
      footerEl.appendChild(c);
    }
  }

  function actionLink(label, index) {
    const a = el("button", "link", label);
    a.type = "button";
    a.id = "act-" + index;
    a.addEventListener("click", () => act("fire", { index: index }));
    return a;
  }

  function link(it) { return actionLink(it.text, it.action); }

  function dataURL(src) { return /^data:/.test(src) ? src : "data:image/png;base64," + src; }

  function image(it) {
    const img = el("img", "image");
    img.src = dataURL(it.src);
    img.alt = it.alt_text || "";
    if (it.width) img.width = it.width;
    if (it.height) img.height = it.height;
    img.style.objectFit = it.scale_type === "cover" ? "cover" : "contain";
    if (it.aspect_ratio) img.style.aspectRatio = it.aspect_ratio;
    return img;
  }

  function carousel(it) {
    const d = el("div", "carousel");
    for (const im of it.images || []) { const img = el("img"); img.src = dataURL(im.src); img.alt = im.alt_text || ""; d.appendChild(img); }
    return d;
  }

  function navList(it) {
    const wrap = el("div");
    if (it.label) wrap.appendChild(el("h3", "subheading", it.label));
    if (it.description) wrap.appendChild(el("p", "description", it.description));
    const ul = el("ul", "navlist");
    for (const li of it.list_items || []) {
      const row = el("li");
      row.id = "nav-" + it.name + "-" + li.id;
      if (li.image) { const img = el("img"); img.src = dataURL(li.image); img.width = 40; row.appendChild(img); }
      const main = el("div", "main");
      const t = el("div", "", li.title);
      if (li.badge) t.appendChild(el("span", "badge", li.badge));
      main.appendChild(t);
      if (li.description) main.appendChild(el("div", "description", li.description));
      if (li.metadata) main.appendChild(el("div", "description", li.metadata));
      for (const tag of li.tags || []) main.appendChild(el("span", "tag", tag));
      row.appendChild(main);
      if (li.end_title || li.end_description) row.appendChild(el("div", "end", [li.end_title, li.end_description, li.end_metadata].filter(Boolean).join("\n")));
      const index = li.action !== undefined && li.action !== null ? li.action : it.action;
      if (index !== undefined && index !== null) row.addEventListener("click", () => act("fire", { index: index }));
      ul.appendChild(row);
    }
    wrap.appendChild(ul);
    return wrap;
  }

  function iso(d) { return d.toISOString().slice(0, 10); }

  function logStep(st) {
    const li = el("li");
    const ok = !(st.violations && st.violations.length) && !(st.blocked && st.blocked.length);
    let head = st.kind + (st.from ? " on " + st.from : "") + (st.to && st.to !== st.from ? " \u2192 " + st.to : "");
    if (st.endpoint) head += " \u00b7 HTTP " + st.status + " in " + (st.latency_ns / 1e6).toFixed(1) + " ms";
    li.appendChild(el("span", "", head + " "));
    li.appendChild(el("span", ok ? "ok" : "bad", ok ? "ok" : (st.blocked && st.blocked.length ? "blocked by the phone" : st.violations.length + " violation(s)")));
    const det = el("details");
    det.appendChild(el("summary", "", "details"));
    if (st.sent) { det.appendChild(el("div", "", "sent")); det.appendChild(el("pre", "", JSON.stringify(st.sent, null, 1))); }
    if (st.answer) { det.appendChild(el("div", "", "answer")); det.appendChild(el("pre", "", JSON.stringify(st.answer, null, 1))); }
    for (const b of st.blocked || []) det.appendChild(el("div", "", "phone refuses " + (b.component || b.key) + ": " + b.message));
    for (const v of st.violations || []) det.appendChild(el("div", "bad", v.rule + (v.pointer ? " at " + v.pointer : "") + ": " + v.message));
    li.appendChild(det);
    logEl.appendChild(li);
  }

  backEl.addEventListener("click", () => act("back"));
  document.getElementById("restart").addEventListener("click", start);
  // Typing, choosing and picking update the Footer as they happen.
  for (const ev of ["input", "change", "click"]) screenEl.addEventListener(ev, updateFooter);
  start();
  watchSource();
})();
