import OpenAI from "openai";
const client = new OpenAI({ baseURL: process.env.BASE + "/v1", apiKey: process.env.KEY });
const models = await client.models.list();
console.log("models:", models.data.map(m => m.id).join(","));
const stream = await client.chat.completions.create({
  model: models.data[0].id, stream: true, stream_options: { include_usage: true },
  messages: [{ role: "user", content: "Once upon a time" }], max_tokens: 40,
});
let text = "", usage = null;
for await (const chunk of stream) {
  if (chunk.choices[0]?.delta?.content) text += chunk.choices[0].delta.content;
  if (chunk.usage) usage = chunk.usage;
}
console.log("streamed:", JSON.stringify(text));
console.log("usage:", JSON.stringify(usage));
const r = await client.chat.completions.create({ model: models.data[0].id, messages: [{ role: "user", content: "Hi" }], max_tokens: 10 });
console.log("non-streaming:", JSON.stringify(r.choices[0].message), JSON.stringify(r.usage));
try { await client.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "Hi" }] }); }
catch (e) { console.log("error:", e.status, e.message); }
