mount(document.getElementById("stage"))
  .then(() => { document.body.dataset.state = "playing"; })
  .catch((err) => { document.body.dataset.state = "error"; document.getElementById("error").textContent = String(err); });
