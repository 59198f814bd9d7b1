"""The demo zone, as data. Names of people and their ID and phone numbers are fictitious."""

REGIONS = [
    # code, zh, en, province zh, province en, audit threshold (fen)
    ("310118", "青浦区", "Qingpu District", "上海市", "Shanghai", 2_000_000),
    ("320509", "吴江区", "Wujiang District", "江苏省", "Jiangsu", 1_500_000),
    ("330421", "嘉善县", "Jiashan County", "浙江省", "Zhejiang", 1_000_000),
]

# region, class, deductible, cap, A l1/l2/l3, B l1/l2/l3 (bp), B self share (bp),
# has personal account, account pays deductible, account pays class C
POLICIES = [
    ("310118", "employee", 150_000, 5_000_000, (8000, 7500, 7000), (7500, 7000, 6500), 1000,
     True, True, True),
    ("310118", "resident", 30_000, 2_000_000, (7000, 6000, 5000), (6500, 5500, 4500), 1000,
     False, False, False),
    ("320509", "employee", 100_000, 4_000_000, (8500, 8000, 7500), (8000, 7500, 7000), 800,
     True, True, False),
    ("320509", "resident", 50_000, 1_500_000, (6500, 5500, 4500), (6000, 5000, 4000), 1000,
     False, False, False),
    ("330421", "employee", 80_000, 3_000_000, (8000, 7500, 7000), (7500, 7000, 6500), 1500,
     True, True, True),
    ("330421", "resident", 40_000, 1_200_000, (6000, 5500, 5000), (5500, 5000, 4500), 1500,
     False, False, False),
]

# Hospitals: region, zh, en, level. Community centres and village clinics are added per town.
HOSPITALS = [
    ("310118", "青浦区中心医院", "Qingpu Central Hospital", 3),
    ("310118", "青浦区中医医院", "Qingpu Hospital of Traditional Chinese Medicine", 2),
    ("310118", "青浦区朱家角人民医院", "Zhujiajiao People's Hospital", 2),
    ("310118", "青浦区妇幼保健院", "Qingpu Maternal and Child Health Hospital", 2),
    ("310118", "青浦区第二人民医院", "Qingpu Second People's Hospital", 2),
    ("320509", "吴江区第一人民医院", "Wujiang First People's Hospital", 3),
    ("320509", "吴江区中医医院", "Wujiang Hospital of Traditional Chinese Medicine", 2),
    ("320509", "吴江区第二人民医院", "Wujiang Second People's Hospital", 2),
    ("320509", "吴江区第四人民医院", "Wujiang Fourth People's Hospital", 2),
    ("320509", "吴江区妇幼保健院", "Wujiang Maternal and Child Health Hospital", 2),
    ("330421", "嘉善县第一人民医院", "Jiashan First People's Hospital", 3),
    ("330421", "嘉善县中医医院", "Jiashan Hospital of Traditional Chinese Medicine", 2),
    ("330421", "嘉善县第二人民医院", "Jiashan Second People's Hospital", 2),
    ("330421", "嘉善县妇幼保健院", "Jiashan Maternal and Child Health Hospital", 2),
]

# Towns and subdistricts: region, zh, pinyin, kind, village clinics in the demo
TOWNS = [
    ("310118", "盈浦街道", "Yingpu", "Subdistrict", 1), ("310118", "夏阳街道", "Xiayang", "Subdistrict", 1),
    ("310118", "香花桥街道", "Xianghuaqiao", "Subdistrict", 1), ("310118", "朱家角镇", "Zhujiajiao", "Town", 2),
    ("310118", "练塘镇", "Liantang", "Town", 2), ("310118", "金泽镇", "Jinze", "Town", 2),
    ("310118", "赵巷镇", "Zhaoxiang", "Town", 1), ("310118", "徐泾镇", "Xujing", "Town", 1),
    ("310118", "华新镇", "Huaxin", "Town", 1), ("310118", "重固镇", "Chonggu", "Town", 1),
    ("310118", "白鹤镇", "Baihe", "Town", 1),
    ("320509", "松陵街道", "Songling", "Subdistrict", 1), ("320509", "江陵街道", "Jiangling", "Subdistrict", 1),
    ("320509", "横扇街道", "Hengshan", "Subdistrict", 1), ("320509", "同里镇", "Tongli", "Town", 2),
    ("320509", "平望镇", "Pingwang", "Town", 2), ("320509", "盛泽镇", "Shengze", "Town", 2),
    ("320509", "震泽镇", "Zhenze", "Town", 2), ("320509", "七都镇", "Qidu", "Town", 1),
    ("320509", "黎里镇", "Lili", "Town", 2), ("320509", "桃源镇", "Taoyuan", "Town", 1),
    ("330421", "魏塘街道", "Weitang", "Subdistrict", 1), ("330421", "罗星街道", "Luoxing", "Subdistrict", 1),
    ("330421", "惠民街道", "Huimin", "Subdistrict", 1), ("330421", "大云镇", "Dayun", "Town", 1),
    ("330421", "西塘镇", "Xitang", "Town", 2), ("330421", "干窑镇", "Ganyao", "Town", 1),
    ("330421", "陶庄镇", "Taozhuang", "Town", 2), ("330421", "姚庄镇", "Yaozhuang", "Town", 2),
    ("330421", "天凝镇", "Tianning", "Town", 1),
]

# code, zh, en, fare (fen), regions served
BUS_LINES = [
    ("ZONE1", "示范区1路（金泽—黎里）", "Zone Line 1 (Jinze–Lili)", 200, ("310118", "320509")),
    ("ZONE2", "示范区2路（朱家角—西塘）", "Zone Line 2 (Zhujiajiao–Xitang)", 300, ("310118", "330421")),
    ("ZONE3", "示范区3路（练塘—姚庄）", "Zone Line 3 (Liantang–Yaozhuang)", 200, ("310118", "330421")),
    ("ZONE4", "示范区4路（黎里—西塘）", "Zone Line 4 (Lili–Xitang)", 300, ("320509", "330421")),
    ("ZONE5", "示范区5路（金泽—汾湖）", "Zone Line 5 (Jinze–Fenhu)", 200, ("310118", "320509")),
    ("ZONE6", "示范区6路（青浦—松陵—魏塘）", "Zone Line 6 (Qingpu–Songling–Weitang)", 400,
     ("310118", "320509", "330421")),
]

# Insured persons: key, region, birth date, sequence (odd = male), name, phone, class,
# personal account, transit wallet, password-free limit (fen)
PERSONS = [
    # 沈桂芳: retired, insured in Jiashan, lives with her son's family in Qingpu.
    ("shen", "330421", "19480512", "002", "沈桂芳", "13905730112", "employee", 356_000, 5_000, 20_000),
    # Her husband has no smartphone: their son shows his codes (family code).
    ("lu-sr", "330421", "19460903", "013", "陆根生", "13905730113", "resident", 0, 2_000, 20_000),
    ("lu-jr", "310118", "19750218", "031", "陆建华", "13801920231", "employee", 1_288_000, 8_600, 30_000),
    ("zhou", "310118", "19780625", "046", "周晓敏", "13801920232", "employee", 902_500, 3_000, 30_000),
    ("lu-kid", "310118", "20080110", "057", "陆子轩", "13801920233", "resident", 0, 1_500, 10_000),
    ("wu-1", "320509", "19620304", "071", "吴国强", "13962510441", "employee", 640_000, 1_200, 20_000),
    ("wu-2", "320509", "19851111", "082", "许佳怡", "13962510442", "resident", 0, 600, 20_000),
    ("wu-3", "320509", "19570721", "095", "钱秀英", "13962510443", "resident", 0, 0, 0),
    ("js-1", "330421", "19900208", "103", "顾晨阳", "13905730114", "employee", 215_300, 12_000, 30_000),
    ("js-2", "330421", "19691230", "118", "蒋美玲", "13905730115", "employee", 478_900, 400, 20_000),
    ("qp-1", "310118", "19830416", "127", "朱志明", "13801920234", "employee", 95_000, 2_500, 20_000),
    ("qp-2", "310118", "19520829", "136", "徐阿梅", "13801920235", "resident", 0, 800, 20_000),
]

DEMO_PASSWORD = "yima-demo-2026"

# login, role, person key / institution index / region, what it is for
ACCOUNTS = [
    ("demo-patient", "patient", {"person": "shen"}, "沈桂芳, insured in Jiashan, living in Qingpu"),
    ("demo-family", "patient", {"person": "lu-jr"}, "陆建华, her son: shows his parents' family codes"),
    ("demo-father", "patient", {"person": "lu-sr"},
     "陆根生, her husband: no smartphone; his son shows his codes"),
    ("demo-cashier", "cashier", {"institution": "H31011800001"}, "cashier, Qingpu Central Hospital"),
    ("demo-cashier-wj", "cashier", {"institution": "H32050900001"}, "cashier, Wujiang First People's Hospital"),
    ("demo-cashier-js", "cashier", {"institution": "H33042100001"}, "cashier, Jiashan First People's Hospital"),
    ("demo-auditor", "auditor", {"region": "330421"}, "auditor, Jiashan fund"),
    ("demo-auditor-qp", "auditor", {"region": "310118"}, "auditor, Qingpu fund"),
    ("demo-admin", "admin", {"region": None}, "zone administrator"),
]

# The names staff are known by (the counter's header, receipts): invented, like every demo person.
STAFF_NAMES = {"demo-cashier": "王晓燕", "demo-cashier-wj": "张静", "demo-cashier-js": "李文华",
               "demo-auditor": "陈建国", "demo-auditor-qp": "赵敏", "demo-admin": "孙立新"}

# Family grants in place from the start (grantor login, member login): both parents let their son
# show their codes on his phone, as the README says.
FAMILY_GRANTS = [("demo-patient", "demo-family"), ("demo-father", "demo-family")]

# Each region's maximum for small password-free payment (fen, per payment).
PASSWORD_FREE_MAX = {"310118": 50_000, "320509": 30_000, "330421": 30_000}
