/* Messages page: join the conversation's group on the shared socket (portal/live.js), append every
   `message.created` of it (and, after a reconnect, those missed, caught up with `?since=`), and
   send with the "message.send" frame when the socket is up (a plain form POST otherwise, and for
   the very first message, which opens the conversation). */
(function () {
  "use strict";
  var thread = document.getElementById("thread");
  var form = document.getElementById("message-form");
  if (!thread || !form) { return; }
  var labels = JSON.parse(document.getElementById("message-labels").textContent);
  var conversation = thread.getAttribute("data-conversation");
  var me = thread.getAttribute("data-me");
  var sent = {};

  var subscribeId = null;
  var newest = 0;

  function socketOpen() { return window.portalLive && window.portalLive.state() === "live"; }

  function subscribe() {
    if (conversation && socketOpen()) {
      subscribeId = window.portalLive.subscribe("conversation." + conversation);
    }
  }

  function catchUp() {
    if (!conversation || !window.HvacLive) { return; }
    window.HvacLive.getJSON(thread.getAttribute("data-messages-url") + "?conversation=" + conversation + "&since=" + newest)
      .then(function (body) { (body.results || body).forEach(function (row) { append(row, row.id); }); })
      .catch(function () { /* the next reconnect tries again */ });
  }

  function append(data, id) {
    newest = Math.max(newest, id);
    if (thread.querySelector('[data-message="' + id + '"]')) { return; }
    var empty = thread.querySelector(".empty");
    if (empty) { empty.remove(); }
    var li = document.createElement("li");
    li.setAttribute("data-message", String(id));
    var mine = String(data.author) === me;
    if (mine) { li.className = "mine"; }
    var meta = document.createElement("span");
    meta.className = "meta";
    var who = mine ? labels.you : (data.author_role === "system" ? labels.system : labels.office);
    meta.textContent = who + " · " + new Date(data.created_at).toLocaleString();
    li.appendChild(meta);
    li.appendChild(document.createTextNode(data.body));
    thread.appendChild(li);
    thread.scrollTop = thread.scrollHeight;
  }

  thread.querySelectorAll("[data-message]").forEach(function (li) {
    newest = Math.max(newest, parseInt(li.getAttribute("data-message"), 10) || 0);
  });
  var connectedBefore = false;
  document.addEventListener("portal:event", function (ev) {
    if (ev.detail.type !== "hello") { return; }
    if (!subscribeId) { subscribe(); }  // later hellos: live.js joins it again by itself
    if (connectedBefore) { catchUp(); }
    connectedBefore = true;
  });
  document.addEventListener("portal:event", function (ev) {
    var event = ev.detail;
    if (event.type === "message.created" && event.data && String(event.data.conversation) === conversation) {
      append(event.data, event.id);
    } else if (event.type === "ack" && event.data && event.data.group === "conversation." + conversation) {
      thread.setAttribute("data-subscribed", "1");
    } else if (event.type === "error" && event.id && sent[event.id]) {
      window.alert(event.message);
    }
  });

  form.addEventListener("submit", function (ev) {
    var text = form.querySelector("textarea[name=body]");
    var body = (text.value || "").trim();
    if (!body || !conversation || !socketOpen()) { return; }  // the form posts normally
    ev.preventDefault();
    var id = window.portalLive.send("message.send", { conversation: Number(conversation), body: body });
    if (id) { sent[id] = true; }
    text.value = "";
    text.focus();
  });
  thread.scrollTop = thread.scrollHeight;
})();
