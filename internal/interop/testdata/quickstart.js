// Written the way Google's Node.js webhook quickstart is (index.js and
// thread-reply.js): global fetch, Content-Type with charset, JSON body.
// Usage: node quickstart.js WEBHOOK_URL
const url = process.argv[2];

async function post(target, message) {
  const res = await fetch(target, {
    method: "POST",
    headers: {"Content-Type": "application/json; charset=UTF-8"},
    body: JSON.stringify(message),
  });
  const body = await res.json();
  if (!res.ok) {
    throw new Error(`HTTP ${res.status}: ${JSON.stringify(body)}`);
  }
  console.log(JSON.stringify(body));
}

async function main() {
  await post(url, {text: "Hello from a Node script!"});
  // To start a thread, set threadKey to an arbitrary string; to reply, use the same key.
  const threaded = url + "&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD";
  await post(threaded, {text: "Node thread start", thread: {threadKey: "node-thread"}});
  await post(threaded, {text: "Node thread reply", thread: {threadKey: "node-thread"}});
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
