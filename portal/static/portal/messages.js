/* Messages page: join the conversation's group on the shared socket (live.js), append every
   `message.created` of it, and send with the "message.send" frame when the socket is up (a plain
   form POST otherwise, and for the very first message, which opens the conversation). */
(function () {
  "use strict";
  var thread = document.getElementById("thread");
  var form = document.getElementById("message-form");
  if (!thread || !form) { return; }
  var labels = JSON.parse(document.getElementById("message-labels").textContent);
  var conversation = thread.getAttribute("data-conversation");
  var me = thread.getAttribute("data-me");
  var seq = 0;

  function socketOpen() { return window.portalSocket && window.portalSocket.readyState === 1; }

  function subscribe() {
    if (conversation && socketOpen()) {
      window.portalSocket.send(JSON.stringify({ type: "subscribe", id: "sub-" + conversation, data: { group: "conversation." + conversation } }));
    }
  }

  function append(data, id) {
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

  document.addEventListener("portal:event", function (ev) {
    if (ev.detail.type === "hello") { subscribe(); }
  });
  document.addEventListener("portal:event", function (ev) {
    var event = ev.detail;
    if (event.type === "message.created" && event.data && String(event.data.conversation) === conversation) {
      append(event.data, event.id);
    } else if (event.type === "ack" && event.id === "sub-" + conversation) {
      thread.setAttribute("data-subscribed", "1");
    } else if (event.type === "error" && event.id && String(event.id).charAt(0) === "m") {
      window.alert(event.message);
    }
  });

  form.addEventListener("submit", function (ev) {
    var text = form.querySelector("textarea[name=body]");
    var body = (text.value || "").trim();
    if (!body || !conversation || !socketOpen()) { return; }  // the form posts normally
    ev.preventDefault();
    seq += 1;
    window.portalSocket.send(JSON.stringify({ type: "message.send", id: "m" + seq, data: { conversation: Number(conversation), body: body } }));
    text.value = "";
    text.focus();
  });
  thread.scrollTop = thread.scrollHeight;
})();
