// The cashier's console lives in screens/counter/: console.js (header, tabs, scan and settle),
// bill.js (fast bill entry), receipt.js (receipt and printing), today.js (今日), reconcile.js
// (对账), identify.js (no phone), refund.js, format.js and words.js (money, China time, plain words).
export { counterScreen, stopCounter } from "./counter/console.js";
