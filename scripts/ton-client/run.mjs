// Drives a tonmesh testnet with the unmodified @ton/ton TonClient through
// the nodes' toncenter v2 API: read a balance, run a get-method, send a
// wallet transfer and see it land (on the sending node and on another).
// Run by scripts/check-ton-client, which sets the environment.
import fs from 'node:fs';
import { TonClient, WalletContractV5R1, internal, fromNano, toNano, SendMode, Address } from '@ton/ton';
import { mnemonicToPrivateKey } from '@ton/crypto';

const env = (k) => { const v = process.env[k]; if (!v) throw new Error(`${k} is not set`); return v; };
const send = new TonClient({ endpoint: env('ENDPOINT'), apiKey: env('KEY') });      // node3
const other = new TonClient({ endpoint: env('ENDPOINT2'), apiKey: env('KEY2') });   // node2
const words = fs.readFileSync(env('MNEMONIC_FILE'), 'utf8').trim().split(/\s+/);
const recipient = Address.parse(env('RECIPIENT'));
const expected = Address.parse(env('SENDER'));

const key = await mnemonicToPrivateKey(words);
const contract = WalletContractV5R1.create({ publicKey: key.publicKey, walletId: { networkGlobalId: -3, context: { walletVersion: 'v5r1', workchain: 0, subwalletNumber: 0 } } });
if (!contract.address.equals(expected)) throw new Error(`@ton/ton derives ${contract.address.toRawString()} from the mnemonic, tonmesh ${expected.toRawString()}`);
const wallet = send.open(contract);
console.log('wallet (from the node\'s 24 words by @ton/crypto):', contract.address.toString({ testOnly: true, bounceable: false }));

const balance = await send.getBalance(contract.address);
console.log('getBalance:', fromNano(balance), 'TON');
const state = await send.getContractState(contract.address);
console.log('getContractState:', state.state, 'last tx lt', state.lastTransaction?.lt);
const seqno = await wallet.getSeqno();
console.log('get-method seqno:', seqno);
const info = await send.getMasterchainInfo();
console.log('getMasterchainInfo: latest seqno', info.latestSeqno);

const deployed = state.state === 'active';
const before = await other.getBalance(recipient);
const transfer = wallet.createTransfer({
  seqno, secretKey: key.secretKey, sendMode: SendMode.PAY_GAS_SEPARATELY + SendMode.IGNORE_ERRORS,
  messages: [internal({ to: recipient, value: toNano('1.5'), body: 'hello from @ton/ton', bounce: false })],
});
const fee = await send.estimateExternalMessageFee(contract.address, { body: await transfer, initCode: deployed ? null : contract.init.code, initData: deployed ? null : contract.init.data, ignoreSignature: true });
console.log('estimateExternalMessageFee:', JSON.stringify(fee.source_fees));
await wallet.send(await transfer);
console.log('sendTransfer: sent 1.5 TON to', recipient.toString({ testOnly: true }));

const deadline = Date.now() + 60_000;
while (await wallet.getSeqno() === seqno) {
  if (Date.now() > deadline) throw new Error('the transfer did not land within 60 s');
  await new Promise((r) => setTimeout(r, 200));
}
const pk = await other.runMethod(contract.address, 'get_public_key');
console.log('get-method get_public_key (wallet now deployed, on another node):', '0x' + pk.stack.readBigNumber().toString(16).slice(0, 16) + '…', 'gas', pk.gas_used);
const after = await other.getBalance(recipient);
console.log('recipient balance on another node:', fromNano(before), '->', fromNano(after), 'TON');
const [tx] = await other.getTransactions(recipient, { limit: 1 });
const comment = tx.inMessage.body.beginParse().skip(32).loadStringTail();
const value = tx.inMessage.info.value.coins;
console.log('recipient newest transaction: lt', tx.lt.toString(), 'value', fromNano(value), 'comment', JSON.stringify(comment), 'its fees', fromNano(tx.totalFees.coins));
if (comment !== 'hello from @ton/ton' || value !== toNano('1.5')) throw new Error('newest transaction is not the transfer');
if (after - before !== value - tx.totalFees.coins) throw new Error(`recipient gained ${fromNano(after - before)}, want 1.5 less its fees`);

try {
  await send.runMethod(recipient.equals(expected) ? contract.address : Address.parse(env('EMPTY')), 'seqno');
  throw new Error('a get-method on an empty account succeeded');
} catch (e) {
  console.log('get-method on an empty account:', e.message);
}
console.log('check-ton-client: OK');
