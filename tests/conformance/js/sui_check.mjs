// Check transactions with the official TypeScript SDK (@mysten/sui).
//
// stdin: [{"name", "tx": base64 TransactionData, "signature": base64 97-byte user signature,
//          "sender": "0x…"}]
// For each: Transaction.from(bytes) must read it and build it back to the same bytes
// (every input and the gas are resolved, so no node is needed); bcs.TransactionData
// must re-serialize it byte-identically; verifyTransactionSignature must recover the
// sender. Prints what it read (the Move calls and their targets) as JSON.
import { Transaction } from "@mysten/sui/transactions";
import { bcs } from "@mysten/sui/bcs";
import { verifyTransactionSignature } from "@mysten/sui/verify";
import { fromBase64, toBase64 } from "@mysten/sui/utils";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (c) => (text += c));
  process.stdin.on("end", () => resolve(text));
}));

const out = [];
for (const item of input) {
  const bytes = fromBase64(item.tx);
  const row = { name: item.name };
  const parsed = bcs.TransactionData.parse(bytes);
  row.bcs_roundtrip = toBase64(bcs.TransactionData.serialize(parsed).toBytes()) === item.tx;
  const tx = Transaction.from(bytes);
  const data = tx.getData();
  row.sender = data.sender;
  row.calls = data.commands.map((c) => c.$kind === "MoveCall"
    ? `${c.MoveCall.package}::${c.MoveCall.module}::${c.MoveCall.function}` : c.$kind);
  row.gas_budget = String(data.gasData.budget);
  try {
    const rebuilt = await tx.build();
    row.rebuilt_identical = toBase64(rebuilt) === item.tx;
  } catch (e) {
    row.rebuilt_identical = false;
    row.build_error = String(e.message || e);
  }
  try {
    const pk = await verifyTransactionSignature(bytes, item.signature);
    row.signer = pk.toSuiAddress();
  } catch (e) {
    row.signer = null;
    row.verify_error = String(e.message || e);
  }
  out.push(row);
}
console.log(JSON.stringify(out));
