// The live dashboard: opens /ws/live, renders every snapshot the server pushes (counters,
// latest boards with both sides and their boxes, cameras, latency, defect-rate chart), and
// reconnects by itself (1 s, doubling to 10 s) when the server goes away. When the server has
// API tokens, the page asks for one (or takes `?token=` from its address) and keeps it in this
// browser (localStorage), sending it as `access_token` on the WebSocket and the frame images.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const STAGES = ["decode", "queue", "model", "store", "total"];
const STAGE_NAMES = { decode: "디코드 · decode", queue: "대기 · queue", model: "모델 · model", store: "저장 · store", total: "전체 · total" };
const COLORS = { normal: "#2ea043", component_defect: "#d29922", solder_defect: "#db6d28", discard: "#f85149" };

const $ = (id) => document.getElementById(id);
const two = (n) => String(n).padStart(2, "0");
const clockText = (date) => `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
const state = { snapshots: 0, lastBoards: "", categories: "", categoryList: [] };
const OPERATOR_KEY = "pcb_operator";
const TOKEN_KEY = "pcb_api_token";

function currentToken() {
  const fromAddress = new URLSearchParams(location.search).get("token");
  if (fromAddress) localStorage.setItem(TOKEN_KEY, fromAddress);
  return localStorage.getItem(TOKEN_KEY) || "";
}

// `path` with the token as `access_token` when there is one.
function withToken(path) {
  const token = currentToken();
  if (!token) return path;
  return path + (path.includes("?") ? "&" : "?") + "access_token=" + encodeURIComponent(token);
}

// Whether the server takes this browser's token (or needs none); asks for one when it does not.
async function ensureAccess() {
  const token = currentToken();
  const response = await fetch("/live/snapshot", { headers: token ? { Authorization: "Bearer " + token } : {} });
  if (response.status !== 401) return true;
  const entered = window.prompt(token ? "API 토큰이 맞지 않습니다 · the API token was refused. Token:" : "API 토큰 · API token:");
  if (entered) localStorage.setItem(TOKEN_KEY, entered.trim());
  return false;
}

function el(tag, attributes = {}, text) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function setPill(node, ok, text) {
  node.textContent = text;
  node.className = "pill " + (ok ? "ok" : "bad");
}

// One tile per category (policy order from the server), made once.
function ensureCategoryTiles(snapshot) {
  const key = snapshot.categories.map((c) => c.code + c.label).join("|");
  if (key === state.categories) return;
  state.categories = key;
  state.categoryList = snapshot.categories;
  const container = $("counters");
  container.querySelectorAll(".counter.category").forEach((node) => node.remove());
  const anchor = container.querySelector(".counter.rate");
  for (const category of snapshot.categories) {
    const tile = el("div", { class: "counter category", "data-code": category.code });
    tile.append(el("div", { class: "label" }, `${category.label} · ${category.code.replace("_", " ")}`),
                el("div", { class: "value", id: "count-" + category.code }, "0"));
    container.insertBefore(tile, anchor);
  }
}

function renderCounters(snapshot) {
  ensureCategoryTiles(snapshot);
  $("today-total").textContent = snapshot.today.total.toLocaleString();
  for (const category of snapshot.categories) {
    $("count-" + category.code).textContent = (snapshot.today.counts[category.code] || 0).toLocaleString();
  }
  $("defect-rate").textContent = snapshot.today.defect_rate.toFixed(1) + "%";
  $("boards-total").textContent = snapshot.boards.total.toLocaleString();
  const labels = Object.fromEntries(snapshot.categories.map((c) => [c.code, c.label]));
  $("boards-detail").textContent = snapshot.categories
    .map((c) => `${labels[c.code]} ${snapshot.boards.counts[c.code] || 0}`).join(" · ") + ` · fail-safe ${snapshot.boards.fail_safe}`;
}

function renderStatus(snapshot) {
  setPill($("model"), snapshot.model_ready,
          (snapshot.model_ready ? "모델 준비 · model ready" : "모델 준비 중 · model loading") + (snapshot.precision ? ` · ${snapshot.precision}` : "")
          + (snapshot.test_time_flips && snapshot.test_time_flips !== "none" ? ` · flips ${snapshot.test_time_flips}` : ""));
  setPill($("database"), snapshot.database_online,
          snapshot.database_online ? "DB 연결 · online" : `DB 끊김 · offline (journal ${snapshot.journal_pending})`);
  setPill($("queue"), snapshot.queue_depth < 4, `대기열 · queue ${snapshot.queue_depth}`);
  setPill($("disk"), !snapshot.disk_low, snapshot.disk_low ? "디스크 부족 · disk low: images not saved" : "디스크 · disk ok");
  $("clock").textContent = clockText(new Date());
}

// A side picture: the frame, and its boxes drawn over it in frame pixels.
function sideView(side, name, classCategories) {
  const box = el("div", { class: "side" });
  if (!side || !side.frame) {
    box.append(el("div", { class: "missing" }, side ? `${name}: 이미지 없음 · image gone` : `${name}: 없음 · missing`));
    return box;
  }
  const frame = side.frame;
  box.append(el("img", { src: withToken(frame.image_url), alt: `${name} ${frame.inspection_id}`, "data-inspection": String(frame.inspection_id) }));
  const overlay = el("svg:svg", { viewBox: `0 0 ${frame.width} ${frame.height}`, preserveAspectRatio: "none" });
  // The anomaly model's heat map: cells from half the threshold up, redder as they rise.
  const anomaly = frame.anomaly;
  if (anomaly && anomaly.threshold > 0) {
    anomaly.map.forEach((value, index) => {
      const opacity = Math.min(0.6, Math.max(0, (value - anomaly.threshold / 2) / anomaly.threshold));
      if (opacity <= 0) return;
      const gx = index % anomaly.grid_width, gy = Math.floor(index / anomaly.grid_width);
      overlay.append(el("svg:rect", { class: "heat", x: anomaly.x0 + gx * anomaly.cell_w, y: anomaly.y0 + gy * anomaly.cell_h,
                                      width: anomaly.cell_w, height: anomaly.cell_h, "fill-opacity": opacity.toFixed(2) }));
    });
  }
  for (const b of frame.boxes) {
    const color = COLORS[classCategories[b.class]] || "#f85149";
    overlay.append(el("svg:rect", { x: b.x1, y: b.y1, width: Math.max(1, b.x2 - b.x1), height: Math.max(1, b.y2 - b.y1), stroke: color }));
    overlay.append(el("svg:text", { x: b.x1 + 2, y: Math.max(12, b.y1 - 3), fill: color }, `${b.class} ${b.confidence.toFixed(2)}`));
  }
  box.append(overlay);
  const score = anomaly ? ` · anomaly ${anomaly.score.toFixed(1)}${anomaly.fired ? "!" : ""}` : "";
  box.append(el("div", { class: "caption" }, `${name} · ${frame.label} · #${frame.inspection_id}${score}`));
  return box;
}

function renderBoards(snapshot) {
  // Rebuilt only when the list changes, so pictures do not reload every second.
  const key = snapshot.recent_boards
    .map((b) => `${b.board_key}@${b.decided_at}` + (b.left?.frame ? "L" : "") + (b.right?.frame ? "R" : "")).join("|");
  if (key === state.lastBoards) return;
  state.lastBoards = key;
  const list = $("boards");
  list.replaceChildren();
  if (snapshot.recent_boards.length === 0) {
    list.append(el("p", { class: "empty" }, "아직 보드가 없습니다 · no boards yet"));
    return;
  }
  for (const board of snapshot.recent_boards.slice(0, 4)) {
    const card = el("div", { class: "board", "data-category": board.category, "data-board": board.board_key });
    const head = el("div", { class: "board-head" });
    const time = clockText(new Date(board.decided_at));
    head.append(el("span", { class: "verdict", style: `color:${COLORS[board.category] || "inherit"}` },
                   board.label + (board.fail_safe ? " (fail-safe)" : "")),
                el("span", { class: "meta" }, `${time} · ${board.board_id ? "#" + board.board_id : ""} ${board.board_key}`));
    if (board.board_id) {
      head.append(reviewButton({ kind: "board", id: board.board_id, category: board.category, label: board.label,
                                 title: `보드 · board #${board.board_id} (${board.board_key})` }));
    }
    const sides = el("div", { class: "sides" });
    sides.append(sideView(board.left, "좌 · left", snapshot.class_categories), sideView(board.right, "우 · right", snapshot.class_categories));
    card.append(head, sides);
    list.append(card);
  }
}

function renderFrames(snapshot) {
  const body = $("frames").querySelector("tbody");
  body.replaceChildren();
  for (const frame of snapshot.recent_frames.slice(0, 8)) {
    const row = el("tr", { "data-inspection": String(frame.inspection_id) });
    const verdict = el("td", { style: `color:${COLORS[frame.category] || "inherit"}` }, frame.label);
    const classes = [...new Set(frame.boxes.map((b) => b.class))];
    row.append(el("td", {}, clockText(new Date(frame.time))), el("td", {}, frame.camera_id), verdict,
               el("td", { class: "num" }, String(frame.boxes.length)),
               el("td", { class: "classes" }, classes.slice(0, 3).join(", ") + (classes.length > 3 ? " …" : "")),
               el("td", { class: "num" }, "#" + frame.inspection_id), teachCell(frame), reviewCell(frame));
    body.append(row);
  }
}

// "Teach": a recent normal frame becomes its camera's golden board (PUT /api/reference/{camera}
// ?inspection_id=N; admin scope when the server has tokens). Only normal frames are offered: a
// golden board must be a good board.
function teachCell(frame) {
  const cell = el("td");
  if (frame.category !== "normal") return cell;
  const button = el("button", { class: "teach", type: "button", "data-inspection": String(frame.inspection_id) }, "기준 등록 · teach");
  button.addEventListener("click", () => teach(frame));
  cell.append(button);
  return cell;
}

async function teach(frame) {
  if (!window.confirm(`${frame.camera_id} 카메라의 기준 보드로 등록할까요? · Teach frame #${frame.inspection_id} as the golden board of ${frame.camera_id}?`)) return;
  const token = currentToken();
  const result = $("teach-result");
  try {
    const response = await fetch(`/api/reference/${encodeURIComponent(frame.camera_id)}?inspection_id=${frame.inspection_id}`, {
      method: "PUT", headers: token ? { Authorization: "Bearer " + token } : {},
    });
    const body = await response.json().catch(() => ({}));
    result.textContent = response.ok
      ? `기준 보드 등록됨 · golden board of ${frame.camera_id} taught from #${frame.inspection_id}`
      : `등록 실패 · not taught (${response.status}): ${body.error || ""}`;
    result.dataset.state = response.ok ? "ok" : "error";
  } catch (error) {
    result.textContent = `등록 실패 · not taught: ${error}`;
    result.dataset.state = "error";
  }
}

// "Review": an operator confirms or corrects a verdict. The dialog stays open while snapshots
// re-render the tables; a review is appended, the machine's verdict is never changed.
function reviewCell(frame) {
  const cell = el("td");
  cell.append(reviewButton({ kind: "inspection", id: frame.inspection_id, category: frame.category, label: frame.label,
                             title: `프레임 · frame #${frame.inspection_id} (${frame.camera_id})` }));
  return cell;
}

function reviewButton(subject) {
  const button = el("button", { class: "teach review", type: "button", "data-subject": `${subject.kind}:${subject.id}` }, "검토 · review");
  button.addEventListener("click", () => openReview(subject));
  return button;
}

function openReview(subject) {
  const dialog = $("review-dialog");
  $("review-subject").textContent = `${subject.title} · 기계 판정 · machine: ${subject.label}`;
  $("review-operator").value = localStorage.getItem(OPERATOR_KEY) || "";
  $("review-note").value = "";
  const verdicts = $("review-verdicts");
  verdicts.replaceChildren();
  for (const category of state.categoryList) {
    const agrees = category.code === subject.category;
    const button = el("button", { type: "button", class: agrees ? "right" : "wrong", "data-verdict": category.code },
                      agrees ? `✓ 맞음 · right (${category.label})` : `✗ ${category.label} · ${category.code.replace("_", " ")}`);
    button.addEventListener("click", () => sendReview(subject, category.code));
    verdicts.append(button);
  }
  if (!dialog.open) dialog.showModal();
}

async function sendReview(subject, verdict) {
  const operator = $("review-operator").value.trim();
  const result = $("review-result");
  if (!operator) {
    $("review-operator").focus();
    return;
  }
  localStorage.setItem(OPERATOR_KEY, operator);
  $("review-dialog").close();
  const token = currentToken();
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  const note = $("review-note").value.trim();
  const path = subject.kind === "board" ? `/api/boards/${subject.id}/review` : `/api/inspections/${subject.id}/review`;
  try {
    const response = await fetch(path, { method: "POST", headers, body: JSON.stringify({ verdict, operator, ...(note ? { note } : {}) }) });
    const body = await response.json().catch(() => ({}));
    result.textContent = response.ok
      ? `검토 저장됨 · review of ${subject.title} saved: ${verdict}${body.data && !body.data.agrees ? " (기계와 다름 · differs from the machine)" : ""}`
      : `검토 실패 · review not saved (${response.status}): ${body.error || ""}`;
    result.dataset.state = response.ok ? "ok" : "error";
  } catch (error) {
    result.textContent = `검토 실패 · review not saved: ${error}`;
    result.dataset.state = "error";
  }
}

function renderCameras(snapshot) {
  const body = $("cameras").querySelector("tbody");
  body.replaceChildren();
  for (const camera of snapshot.cameras) {
    const row = el("tr", { "data-camera": camera.camera_id });
    const status = el("td");
    status.append(el("span", { class: "dot" + (camera.online ? " on" : "") }), document.createTextNode(camera.online ? "온라인" : "오프라인"));
    const age = camera.last_frame_age_s === undefined || camera.last_frame_age_s === null ? "—" : camera.last_frame_age_s.toFixed(1) + " s";
    row.append(el("td", {}, camera.camera_id), status, el("td", { class: "num" }, age),
               el("td", { class: "num" }, camera.fps.toFixed(1)), el("td", { class: "num" }, String(camera.frames)));
    body.append(row);
  }
}

function renderLatency(snapshot) {
  const body = $("latency").querySelector("tbody");
  body.replaceChildren();
  for (const stage of STAGES) {
    const p = snapshot.latency_ms[stage];
    const cells = p ? [p.p50, p.p95, p.p99].map((v) => v.toFixed(1)).concat(String(p.count)) : ["—", "—", "—", "0"];
    const row = el("tr", { "data-stage": stage });
    row.append(el("td", {}, STAGE_NAMES[stage]), ...cells.map((c) => el("td", { class: "num" }, c)));
    body.append(row);
  }
}

// Defect rate per minute over the window, as a line over a 0-100 % axis.
function renderChart(snapshot) {
  const chart = $("rate-chart");
  const history = snapshot.defect_rate_history;
  const width = 400, height = 130, left = 30, bottom = 16, top = 6;
  const end = Date.now(), start = end - history.window_s * 1000;
  const x = (t) => left + ((t - start) / (end - start)) * (width - left - 4);
  const y = (rate) => top + (1 - rate / 100) * (height - top - bottom);
  chart.replaceChildren();
  for (const rate of [0, 50, 100]) {
    chart.append(el("svg:line", { class: "axis", x1: left, x2: width - 4, y1: y(rate), y2: y(rate) }));
    chart.append(el("svg:text", { x: 2, y: y(rate) + 3 }, rate + "%"));
  }
  for (let hours = 6; hours >= 0; hours -= 2) {
    chart.append(el("svg:text", { x: x(end - hours * 3600 * 1000), y: height - 3, "text-anchor": hours === 6 ? "start" : hours ? "middle" : "end" },
                    hours ? `-${hours}h` : "now"));
  }
  const points = history.points.filter((p) => p.t >= start && p.total > 0)
    .map((p) => [x(p.t + history.bucket_s * 500), y((p.defective / p.total) * 100)]);
  if (points.length === 0) return;
  const line = points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" ");
  const baseline = y(0).toFixed(1);
  chart.append(el("svg:polygon", { class: "area", points: `${points[0][0].toFixed(1)},${baseline} ${line} ${points[points.length - 1][0].toFixed(1)},${baseline}` }));
  chart.append(el("svg:polyline", { class: "rate", points: line }));
  for (const [px, py] of points.slice(-60)) chart.append(el("svg:circle", { class: "dot", cx: px.toFixed(1), cy: py.toFixed(1), r: 2 }));
}

function render(snapshot) {
  state.snapshots += 1;
  renderCounters(snapshot);
  renderStatus(snapshot);
  renderBoards(snapshot);
  renderFrames(snapshot);
  renderCameras(snapshot);
  renderLatency(snapshot);
  renderChart(snapshot);
  document.body.dataset.snapshots = String(state.snapshots);
}

function setConnection(connected, text) {
  const pill = $("connection");
  pill.textContent = text;
  pill.className = "pill " + (connected ? "ok" : "offline");
  pill.dataset.state = connected ? "live" : "offline";
}

// The WebSocket, reopened after any close with a growing delay.
async function connect(delay = 1000) {
  let allowed = false;
  try {
    allowed = await ensureAccess();
  } catch (error) {
    allowed = true;  // the server is away: the socket's own retries report it
  }
  if (!allowed) {
    setConnection(false, "토큰 필요 · API token needed");
    setTimeout(() => connect(delay), 1000);
    return;
  }
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + withToken("/ws/live");
  const socket = new WebSocket(url);
  let opened = false;
  socket.onopen = () => { opened = true; setConnection(true, "실시간 · live"); };
  socket.onmessage = (event) => {
    try {
      const message = JSON.parse(event.data);
      if (message.type === "snapshot") render(message);
    } catch (error) {
      console.warn("bad live message", error);
    }
  };
  socket.onclose = () => {
    const next = opened ? 1000 : Math.min(delay * 2, 10000);
    setConnection(false, `연결 끊김 · reconnecting in ${Math.round((opened ? 1000 : delay) / 1000)} s`);
    setTimeout(() => connect(next), opened ? 1000 : delay);
  };
}

connect();
