// Keeps a websocket open to this sandbox and shows the round-trip time of a ping every few seconds.
(function () {
  "use strict";
  var card = document.querySelector("[data-ping-url]");
  if (!card) return;
  var stateText = card.querySelector("[data-ping-state]");
  var rttText = card.querySelector("[data-ping-rtt]");
  var delay = 1000;
  var sentAt = 0;

  function show(state, text) {
    card.dataset.state = state;
    stateText.textContent = text;
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + card.dataset.pingUrl);
    var timer = null;
    socket.onopen = function () {
      delay = 1000;
      show("live", "Connected");
      var ping = function () { sentAt = performance.now(); socket.send(JSON.stringify({ type: "ping" })); };
      ping();
      timer = setInterval(ping, 5000);
    };
    socket.onmessage = function (message) {
      var data = JSON.parse(message.data);
      if (data.type === "pong") rttText.textContent = Math.round(performance.now() - sentAt) + " ms";
    };
    socket.onclose = function (event) {
      clearInterval(timer);
      if (event.code === 4404) { show("closed", "This sandbox no longer exists."); return; }
      show("connecting", "Reconnecting…");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
