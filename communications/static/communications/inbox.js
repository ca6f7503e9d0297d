/* The office inbox in real time: one socket (session auth), `message.created` appended without a
 * reload, replies sent as `message.send` frames. The page works without it (plain forms). */
(function () {
  "use strict";
  var root = document.getElementById("comms-conversation") || document.getElementById("comms-inbox");
  if (!root || !window.WebSocket) { return; }
  var conversationId = root.dataset.conversation ? parseInt(root.dataset.conversation, 10) : null;
  var dot = root.querySelector("[data-live-dot]");
  var socket = null;
  var lastSeen = 0;
  var frameId = 0;
  var pending = {};

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function appendMessage(data, id) {
    var thread = document.getElementById("comms-thread");
    if (!thread || thread.querySelector('[data-message="' + id + '"]')) { return; }
    var li = el("li", "comms-msg comms-" + data.author_role + " comms-" + data.urgency);
    li.dataset.message = id;
    var meta = data.author_role + (data.author_name ? " · " + data.author_name : "") + " · " +
      new Date(data.created_at).toLocaleString() + (data.urgency !== "normal" ? " · " + data.urgency : "");
    li.appendChild(el("div", "comms-meta", meta));
    li.appendChild(el("div", "comms-body", data.body));
    thread.appendChild(li);
    li.scrollIntoView({block: "nearest"});
    if (data.author_role === "client" || data.author_role === "technician") {
      send("message.read", {message: id});
    }
  }

  function updateRow(data, id) {
    var table = document.querySelector("#comms-conversations tbody");
    if (!table) { return; }
    var row = table.querySelector('tr[data-conversation="' + data.conversation + '"]');
    if (!row) {
      var empty = table.querySelector(".comms-empty");
      if (empty) { empty.remove(); }
      row = el("tr");
      row.dataset.conversation = data.conversation;
      var link = el("a", null, "#" + data.conversation);
      link.href = root.dataset.conversationUrl.replace("/0/", "/" + data.conversation + "/");
      var first = el("td");
      first.appendChild(link);
      var preview = el("div", "comms-preview");
      preview.dataset.preview = "";
      first.appendChild(preview);
      row.appendChild(first);
      row.appendChild(el("td", null, "#" + data.client));
      row.appendChild(el("td", null, ""));
      var unread = el("td", null, "0"); unread.dataset.unread = ""; row.appendChild(unread);
      var last = el("td", null, ""); last.dataset.last = ""; row.appendChild(last);
    }
    table.insertBefore(row, table.firstChild);
    row.querySelector("[data-preview]").textContent = data.body.slice(0, 120);
    row.querySelector("[data-last]").textContent = new Date(data.created_at).toLocaleString();
    if (data.author_role === "client" || data.author_role === "technician") {
      var cell = row.querySelector("[data-unread]");
      cell.textContent = String(parseInt(cell.textContent || "0", 10) + 1);
      row.classList.add("comms-unread");
    }
  }

  function send(type, data) {
    if (!socket || socket.readyState !== 1) { return null; }
    frameId += 1;
    var id = "f" + frameId;
    socket.send(JSON.stringify({type: type, id: id, data: data}));
    return id;
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + root.dataset.wsPath);
    socket.onclose = function () {
      if (dot) { dot.classList.remove("on"); }
      root.dataset.live = "0";
      setTimeout(connect, 3000);  // missed messages: the page's next load shows them (the DB is the truth)
    };
    socket.onmessage = function (event) {
      var frame = JSON.parse(event.data);
      if (frame.type === "hello") {  // authenticated and joined its groups: live from now on
        if (dot) { dot.classList.add("on"); }
        root.dataset.live = "1";
      } else if (frame.type === "message.created") {
        if (frame.id <= lastSeen) { return; }
        lastSeen = frame.id;
        if (conversationId !== null) {
          if (frame.data.conversation === conversationId) { appendMessage(frame.data, frame.id); }
        } else {
          updateRow(frame.data, frame.id);
        }
      } else if ((frame.type === "ack" || frame.type === "error") && pending[frame.id]) {
        pending[frame.id](frame);
        delete pending[frame.id];
      }
    };
  }

  var form = document.getElementById("comms-reply");
  if (form && conversationId !== null) {
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (submitter && submitter.name === "action") { return; }  // "mark read" stays a plain POST
      var box = form.querySelector("textarea");
      var body = box.value.trim();
      if (!body || !socket || socket.readyState !== 1) { return; }  // no socket: the form posts
      event.preventDefault();
      var id = send("message.send", {conversation: conversationId, body: body});
      pending[id] = function (frame) {
        if (frame.type === "ack") { box.value = ""; } else { window.alert(frame.message); }
      };
    });
  }
  connect();
}());
