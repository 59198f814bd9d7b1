// Every user-facing string, zh-CN first, English second. t(key, vars) looks one up; elements
// with data-i18n="key" are filled by apply().
const STRINGS = {
  "zh-CN": {
    "app.name": "一码", skip: "跳到主要内容", loading: "正在加载…", "lang.switch": "English",
    "elder.toggle": "长者模式", offline: "离线：二维码仍可使用",
    "nav.code": "我的码", "nav.family": "亲情", "nav.account": "账户",
    "login.title": "登录", "login.phone": "手机号或登录名", "login.password": "密码",
    "login.submit": "登录", "login.signup": "还没有账户？用身份证号注册",
    "signup.title": "注册", "signup.intro": "参保人凭身份证号和在医保登记的手机号注册。",
    "signup.id": "身份证号", "signup.phone": "登记的手机号", "signup.send": "获取验证码",
    "signup.code": "短信验证码", "signup.password": "设置密码（至少8位，字母加数字）",
    "signup.submit": "注册并登录", "signup.demo": "演示模式：验证码是 {code}（正式环境发短信）",
    "signup.sent": "验证码已发送，5分钟内有效。", "signup.back": "已有账户？去登录",
    "activate.title": "在这部手机上启用一码",
    "activate.intro": "启用后，这部手机会生成您的医保电子凭证和社保乘车码，断网也能用。",
    "activate.warn": "您已在另一部手机上启用。在这里启用后，那部手机上的码将立即失效。",
    "activate.button": "启用本机", "activate.confirm": "确认在本机启用",
    "tab.med": "医保电子凭证", "tab.ss": "社保乘车码", "holder.me": "本人",
    "holder.family": "{name}（亲情）",
    "code.hint.med": "请出示给收费窗口扫码", "code.hint.ss": "上车请对准扫码器",
    "code.refresh": "{s} 秒后刷新", "code.expires": "凭证 {d} 天后到期，请联网续期",
    "code.expired": "凭证已过期，请联网后续期", "code.renew": "立即续期",
    "code.clock": "手机时间与服务器相差 {s} 秒，已自动校正",
    "code.alt": "{kind}二维码，每30秒更新",
    "family.title": "亲情账户", "family.intro": "让家人用他们自己的手机为您出示码，或为家人出示。",
    "family.invite": "邀请家人", "family.inviteCode": "邀请码：{code}（24小时内有效）",
    "family.inviteHelp": "请家人登录一码，在“亲情”里输入邀请码或扫描此码。",
    "family.accept": "接受邀请", "family.code": "邀请码", "family.acceptButton": "接受",
    "family.given": "我授权的家人", "family.received": "我可以出示的家人",
    "family.none": "暂无", "family.revoke": "取消授权", "family.show": "在本机出示",
    "family.shown": "已在本机出示", "family.pending": "等待接受", "family.revoked": "已取消",
    "account.title": "账户", "account.balances": "余额", "account.pa": "医保个人账户",
    "account.wallet": "乘车钱包", "account.limit": "小额免密额度",
    "account.topup": "充值乘车钱包", "account.amount": "充值金额（元）",
    "account.topupButton": "充值", "account.demoPay": "演示支付：不会真实扣款",
    "account.topped": "已充值 {yuan} 元", "account.settlements": "就医结算记录",
    "account.rides": "乘车记录", "account.walletLog": "钱包明细", "account.empty": "暂无记录",
    "account.devices": "我的手机", "account.thisPhone": "本机", "account.revoke": "挂失此手机",
    "account.revoked": "已挂失", "account.logout": "退出登录",
    "account.region": "参保地：{region} · {cls}", "class.employee": "职工医保",
    "class.resident": "城乡居民医保", "kind.topup": "充值", "kind.ride": "乘车", "kind.adjust": "调整",
    "error.network": "网络不通，请稍后再试。", "error.generic": "出错了：{detail}",
    "error.required": "请填写{field}。", "yuan": "{yuan} 元",
    "err.invalid_credentials": "手机号或密码不对。", "err.rate_limited": "尝试太频繁，请稍等一会儿再试。",
    "err.bad_national_id": "身份证号不正确，请检查。", "err.bad_phone": "手机号应为11位数字。",
    "err.not_in_registry": "身份证号和手机号与参保登记不一致。如手机号已更换，请到医保经办机构更新。",
    "err.account_exists": "您已注册过，请直接登录。", "err.otp_wrong": "验证码不对。",
    "err.otp_expired": "验证码已过期，请重新获取。", "err.otp_locked": "错误次数太多，请重新获取验证码。",
    "err.weak_password": "密码至少8位，并同时包含字母和数字或符号。",
    "err.invitation_invalid": "邀请码不对、已用过或已过期。", "err.own_invitation": "不能接受自己的邀请。",
    "err.too_many_family": "最多5位家人，请先取消一位。", "err.bad_amount": "充值金额为1到1000元。",
    "err.unauthenticated": "请先登录。",
  },
  en: {
    "app.name": "Yima", skip: "Skip to main content", loading: "Loading…", "lang.switch": "中文",
    "elder.toggle": "Elder mode", offline: "Offline: your codes still work",
    "nav.code": "My codes", "nav.family": "Family", "nav.account": "Account",
    "login.title": "Log in", "login.phone": "Phone number or login", "login.password": "Password",
    "login.submit": "Log in", "login.signup": "No account yet? Sign up with your ID number",
    "signup.title": "Sign up", "signup.intro": "Insured persons sign up with their ID number and the phone number registered with the fund.",
    "signup.id": "National ID number", "signup.phone": "Registered phone number", "signup.send": "Send code",
    "signup.code": "Code from the text message", "signup.password": "Choose a password (8+ characters, letters and digits)",
    "signup.submit": "Sign up and log in", "signup.demo": "Demo mode: the code is {code} (a real deployment sends a text)",
    "signup.sent": "Code sent; valid for 5 minutes.", "signup.back": "Have an account? Log in",
    "activate.title": "Use Yima on this phone",
    "activate.intro": "Once activated, this phone makes your medical e-voucher and ride codes, even offline.",
    "activate.warn": "Yima is active on another phone. Activating here stops the codes on that phone at once.",
    "activate.button": "Activate this phone", "activate.confirm": "Yes, activate here",
    "tab.med": "Medical e-voucher", "tab.ss": "Ride code", "holder.me": "Me",
    "holder.family": "{name} (family)",
    "code.hint.med": "Show this to the hospital cashier", "code.hint.ss": "Hold it to the bus validator",
    "code.refresh": "New code in {s} s", "code.expires": "Expires in {d} days — connect to renew",
    "code.expired": "Expired — connect to renew", "code.renew": "Renew now",
    "code.clock": "Phone clock is {s} s off; corrected",
    "code.alt": "{kind} QR code, renewed every 30 seconds",
    "family.title": "Family", "family.intro": "Let family members show your codes on their own phones, or show theirs.",
    "family.invite": "Invite a family member", "family.inviteCode": "Invitation code: {code} (valid 24 hours)",
    "family.inviteHelp": "Ask them to log in to Yima and enter this code under Family, or scan it.",
    "family.accept": "Accept an invitation", "family.code": "Invitation code", "family.acceptButton": "Accept",
    "family.given": "Who may show my codes", "family.received": "Whose codes I may show",
    "family.none": "None", "family.revoke": "Revoke", "family.show": "Show on this phone",
    "family.shown": "Shown on this phone", "family.pending": "Waiting", "family.revoked": "Revoked",
    "account.title": "Account", "account.balances": "Balances", "account.pa": "Personal medical account",
    "account.wallet": "Ride wallet", "account.limit": "Password-free limit",
    "account.topup": "Top up the ride wallet", "account.amount": "Amount (yuan)",
    "account.topupButton": "Top up", "account.demoPay": "Demo payment: no real money moves",
    "account.topped": "Topped up {yuan} yuan", "account.settlements": "Medical settlements",
    "account.rides": "Rides", "account.walletLog": "Wallet entries", "account.empty": "No records yet",
    "account.devices": "My phones", "account.thisPhone": "this phone", "account.revoke": "Report lost",
    "account.revoked": "Reported lost", "account.logout": "Log out",
    "account.region": "Insured in {region} · {cls}", "class.employee": "Employee scheme",
    "class.resident": "Resident scheme", "kind.topup": "Top-up", "kind.ride": "Ride", "kind.adjust": "Adjustment",
    "error.network": "No connection. Please try again later.", "error.generic": "Something went wrong: {detail}",
    "error.required": "Please fill in {field}.", yuan: "{yuan} yuan",
    "err.invalid_credentials": "Phone number or password is wrong.", "err.rate_limited": "Too many attempts; wait a moment and try again.",
    "err.bad_national_id": "The ID number is not valid; please check it.", "err.bad_phone": "A phone number has 11 digits.",
    "err.not_in_registry": "This ID number and phone number are not registered together. If your phone number changed, ask your insurance office.",
    "err.account_exists": "You already have an account: please log in.", "err.otp_wrong": "The code is wrong.",
    "err.otp_expired": "The code expired; ask for a new one.", "err.otp_locked": "Too many wrong codes; ask for a new one.",
    "err.weak_password": "At least 8 characters, mixing letters with digits or symbols.",
    "err.invitation_invalid": "This invitation code is wrong, used or expired.", "err.own_invitation": "You cannot accept your own invitation.",
    "err.too_many_family": "At most 5 family members; revoke one first.", "err.bad_amount": "Top up between 1 and 1000 yuan.",
    "err.unauthenticated": "Please log in first.",
  },
};

let language = localStorage.getItem("yima.lang") || "zh-CN";

export const currentLanguage = () => language;

export function t(key, vars = {}) {
  const text = STRINGS[language][key] ?? STRINGS["zh-CN"][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

export function has(key) {
  return key in STRINGS[language];
}

export function setLanguage(next) {
  language = STRINGS[next] ? next : "zh-CN";
  localStorage.setItem("yima.lang", language);
  apply(document);
}

export function apply(root) {
  document.documentElement.lang = language;
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  const toggle = document.getElementById("lang-toggle");
  if (toggle) toggle.lang = language === "en" ? "zh-CN" : "en";
}
