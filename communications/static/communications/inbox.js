/* The office inbox in real time over the shared socket client (static/js/live.js): `message.created`
 * appended without a reload, messages missed while disconnected caught up with `?since=`, replies
 * sent as `message.send` frames. The page works without it (plain forms). */
(function () {
  "use strict";
  var root = document.getElementById("comms-conversation") || document.getElementById("comms-inbox");
  if (!root || !window.HvacLive) { return; }
  var conversationId = root.dataset.conversation ? parseInt(root.dataset.conversation, 10) : null;
  var dot = root.querySelector("[data-live-dot]");
  var live = null;
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
      row.appendChild(el("td", null, data.client ? "#" + data.client : ""));
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

  function send(type, data) { return live ? live.send(type, data) : null; }

  function show(data, id) {
    if (conversationId !== null) {
      if (data.conversation === conversationId) { appendMessage(data, id); }
    } else {
      updateRow(data, id);
    }
  }

  function newestShown() {
    var ids = Array.prototype.map.call(document.querySelectorAll("#comms-thread [data-message]"), function (li) {
      return parseInt(li.dataset.message, 10);
    });
    return ids.length ? Math.max.apply(null, ids) : null;
  }

  function connect() {
    var url = root.dataset.messagesUrl + (conversationId !== null ? "?conversation=" + conversationId : "");
    live = window.HvacLive.connect({
      streams: { messages: { url: url, lastId: conversationId !== null ? newestShown() : null,
                             apply: function (row) { show(row, row.id); } } },
      onState: function (state) {
        if (dot) { dot.classList.toggle("on", state === "live"); }
        root.dataset.live = state === "live" ? "1" : "0";
      },
      onEvent: function (frame) {
        if (frame.type === "message.created") {
          show(frame.data, frame.id);
        } else if (frame.type === "emergency.alert" && frame.data.chain && window.HvacChain) {
          window.HvacChain.update(frame.id, frame.data);
        } else if ((frame.type === "ack" || frame.type === "error") && pending[frame.id]) {
          pending[frame.id](frame);
          delete pending[frame.id];
        }
      }
    });
  }

  var form = document.getElementById("comms-reply");
  if (form && conversationId !== null) {
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (submitter && submitter.name === "action") { return; }  // "mark read" stays a plain POST
      var box = form.querySelector("textarea");
      var body = box.value.trim();
      if (!body || !live || live.state() !== "live") { return; }  // no socket: the form posts
      var id = send("message.send", {conversation: conversationId, body: body});
      if (!id) { return; }
      event.preventDefault();
      pending[id] = function (frame) {
        if (frame.type === "ack") { box.value = ""; } else { window.alert(frame.message); }
      };
    });
  }
  connect();
}());
