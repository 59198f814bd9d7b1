"""The national dictionary values Yima accepts, and how they map to Yima's own words.
docs/national-interface.md lists the same tables."""

# 就诊凭证类型: only the e-voucher. An ID card (02) or a social-security card (03) is read by the
# national platform, not by Yima; at a Yima counter a patient without a phone is identified by the
# cashier (backend/counter/identify.py), never by a hospital system's message.
MDTRT_CERT_TYPES = {"01": "医保电子凭证"}

# 险种类型 ↔ Yima's insurance class.
INSUTYPES = {"310": "employee", "390": "resident"}
INSUTYPE_OF_CLASS = {klass: code for code, klass in INSUTYPES.items()}
INSUTYPE_NAMES = {"310": "职工基本医疗保险", "390": "城乡居民基本医疗保险"}
# 基金支付类型 of the pooled fund, by 险种.
FUND_PAY_TYPES = {"310": ("310100", "职工基本医疗保险统筹基金"),
                  "390": ("390100", "城乡居民基本医疗保险基金")}

# 医疗类别: the outpatient and inpatient kinds Yima settles.
OUTPATIENT_MED_TYPES = {"11": "普通门诊", "12": "门诊挂号", "13": "急诊"}
INPATIENT_MED_TYPES = {"21": "普通住院"}

# 个人结算方式: by item only.
PSN_SETLWAYS = {"01": "按项目结算"}
# 个人账户使用标志.
ACCT_USED_FLAGS = {"0": False, "1": True}

# 医疗收费项目类别: the national names, and the category of a Yima bill line for each.
CHARGE_ITEM_TYPES = {
    "01": "床位费", "02": "诊察费", "03": "检查费", "04": "化验费", "05": "治疗费", "06": "手术费",
    "07": "护理费", "08": "卫生材料费", "09": "西药费", "10": "中药饮片费", "11": "中成药费",
    "12": "一般诊疗费", "13": "挂号费", "14": "其他费",
}
# An outpatient bill (backend/counter/benefits.py CATEGORIES) has no bed line.
OUTPATIENT_CATEGORIES = {
    "02": "examination", "03": "examination", "04": "examination", "05": "treatment",
    "06": "treatment", "07": "treatment", "08": "material", "09": "drug", "10": "drug",
    "11": "drug", "12": "treatment", "13": "registration", "14": "treatment",
}
# A stay's lines (backend/models/inpatient.py INPATIENT_CATEGORIES).
INPATIENT_CATEGORIES = {
    "01": "bed", "02": "consultation", "03": "examination", "04": "laboratory",
    "05": "treatment", "06": "surgery", "07": "nursing", "08": "material", "09": "drug",
    "10": "drug", "11": "drug", "12": "consultation", "13": "other", "14": "other",
}

# 收费项目等级 → coverage class. The national platform derives it from its catalogue; Yima has
# no drug catalogue, so the HIS sends it with each fee line (the national field and codes).
CHARGE_ITEM_LEVELS = {"01": "A", "02": "B", "03": "C"}
CHARGE_ITEM_LEVEL_OF_CLASS = {klass: code for code, klass in CHARGE_ITEM_LEVELS.items()}

# 清算类别 of 3201: outpatient or inpatient settlements.
CLR_TYPES = {"11": "门诊", "21": "住院"}

# 人员证件类型: the registry holds the resident ID card number (masked).
PSN_CERT_TYPE_ID_CARD = "01"
