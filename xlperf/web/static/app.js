// xlperf serve: the page's behaviour. Text from the server is always set with textContent, never as HTML.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  function show(el, text) {
    el.textContent = text;
    el.hidden = !text;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"X-CSRF-Token": csrf, "Content-Type": "application/json"},
      body: JSON.stringify(body || {}),
    }).then(function (r) {
      return r.json().catch(function () { return {error: "服务器返回了无法识别的结果（" + r.status + "）；请刷新页面后重试。"}; });
    });
  }

  // ---------------------------------------------------------------- upload page
  const input = document.getElementById("file");
  const drop = document.getElementById("drop");
  const list = document.getElementById("uploads");
  const message = document.getElementById("message");

  function upload(file, count) {
    const li = document.createElement("li");
    const name = document.createElement("b");
    name.textContent = file.name;
    const bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    const state = document.createElement("span");
    state.className = "state";
    state.textContent = "正在上传……";
    li.append(name, bar, state);
    list.append(li);
    const maxBytes = Number(input.dataset.maxBytes);
    if (file.size > maxBytes) {
      li.className = "failed"; bar.remove();
      state.textContent = file.name + " 有 " + (file.size / 1048576).toFixed(1) + " MB，超过网页上传上限 " + input.dataset.maxMb +
        " MB；标准自评表通常小于 1 MB，请检查是否粘贴了大量无关数据。";
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/upload");
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.setRequestHeader("X-Filename", encodeURIComponent(file.name));
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total);
    };
    xhr.upload.onload = function () {
      bar.removeAttribute("value");  // indeterminate while the server checks and scores
      state.textContent = "已上传，正在校验、计分并生成报告……";
    };
    xhr.onload = function () {
      let data;
      try { data = JSON.parse(xhr.responseText); } catch (e) {
        data = {error: xhr.status === 403 ? "拒绝访问：请用 xlperf serve 启动时显示的链接重新打开本页。" :
          "服务器返回了无法识别的结果（" + xhr.status + "）；请重试。"};
      }
      bar.remove();
      if (data.url) {
        li.className = "done";
        // a score computed while errors remain is no result yet: say so before the figure
        state.textContent = data.errors ?
          "已计分，但有 " + data.errors + " 条错误须改正，总分 " + data.total + " 仅供参考。 " :
          "完成：通过校验" + (data.warnings ? "（" + data.warnings + " 条提醒）" : "") +
          "，总分 " + data.total + "（" + data.rating + "）。 ";
        const a = document.createElement("a");
        a.href = data.url; a.textContent = "查看结果";
        state.append(a);
        if (count === 1) window.location.assign(data.url);
      } else {
        li.className = "failed";
        state.textContent = data.error || "上传失败。";
      }
    };
    xhr.onerror = function () {
      bar.remove(); li.className = "failed";
      state.textContent = "无法连接本机服务：xlperf serve 可能已关闭。请重新启动后再试。";
    };
    xhr.send(file);
  }

  function start(files) {
    show(message, "");
    const chosen = Array.from(files || []);
    if (!chosen.length) return;
    chosen.forEach(function (f) { upload(f, chosen.length); });
  }

  if (input && drop) {
    input.addEventListener("change", function () { start(input.files); input.value = ""; });
    ["dragenter", "dragover"].forEach(function (t) {
      drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (t) {
      drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.remove("over"); });
    });
    drop.addEventListener("drop", function (e) { start(e.dataTransfer.files); });
    drop.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") input.click(); });
  }

  // ---------------------------------------------------------------- result page
  const packageButton = document.getElementById("package");
  const sendButton = document.getElementById("send");
  const progress = document.getElementById("progress");
  const force = document.getElementById("force");
  const reason = document.getElementById("reason");
  const printButton = document.getElementById("print");

  function options() {
    return {force: !!(force && force.checked), reason: reason ? reason.value : ""};
  }

  if (printButton) printButton.addEventListener("click", function () { window.print(); });

  const upgradeButton = document.getElementById("upgrade");
  if (upgradeButton) {
    upgradeButton.addEventListener("click", function () {
      show(message, "");
      upgradeButton.disabled = true;
      const label = upgradeButton.textContent;
      upgradeButton.textContent = "正在迁移……";
      post(upgradeButton.dataset.url, {}).then(function (data) {
        upgradeButton.disabled = false;
        upgradeButton.textContent = label;
        if (!data.url) { show(message, data.error || "升级失败。"); return; }
        const report = document.getElementById("upgrade-report");
        report.replaceChildren();
        (data.lines || []).forEach(function (line) {
          const li = document.createElement("li");
          li.textContent = line;
          report.append(li);
        });
        report.hidden = false;
        window.location.assign(data.url);
      });
    });
  }

  if (packageButton) {
    packageButton.addEventListener("click", function () {
      show(message, "");
      packageButton.disabled = true;
      const label = packageButton.textContent;
      packageButton.textContent = "正在导出报送包……";
      post(packageButton.dataset.url, options()).then(function (data) {
        packageButton.disabled = false;
        packageButton.textContent = label;
        if (data.url) window.location.assign(data.url);
        else show(message, data.error || "导出失败。");
      });
    });
  }

  function render(state) {
    progress.hidden = state.state === "idle";
    progress.className = "progress-box " + state.state;
    document.getElementById("progress-step").textContent = state.step;
    document.getElementById("progress-message").textContent = state.message;
    sendButton.dataset.state = state.state;
    if (state.state === "sent") { sendButton.disabled = true; sendButton.textContent = "已发送"; }
    else if (state.state === "sending") { sendButton.disabled = true; sendButton.textContent = "正在发送……"; }
    else if (state.state === "failed") { sendButton.disabled = false; sendButton.textContent = state.outbox_id ? "重新发送" : "发送财政局"; }
  }

  function poll() {
    fetch(sendButton.dataset.url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (state) {
      render(state);
      if (state.state === "sending") window.setTimeout(poll, 400);
    }).catch(function () { window.setTimeout(poll, 1000); });
  }

  if (sendButton) {
    sendButton.addEventListener("click", function () {
      if (sendButton.disabled) return;
      sendButton.disabled = true;  // one click, one send
      show(message, "");
      post(sendButton.dataset.url, options()).then(function (state) {
        if (state.error) { show(message, state.error); sendButton.disabled = false; return; }
        render(state);
        if (state.state === "sending") window.setTimeout(poll, 300);
      });
    });
    if (sendButton.dataset.state === "sending") poll();
  }
})();
