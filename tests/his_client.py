"""A hospital system's side of the national interface, written from the public field lists of
the 两定机构 messages (the names a real HIS sends): the request envelope, and the ``input`` of
each transaction Yima serves. Money goes out as decimal yuan, times as yyyy-MM-dd HH:mm:ss."""
import itertools
import json
from datetime import datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8))
_SEQUENCE = itertools.count(1)


def china_now():
    return datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def yuan(fen):
    return f"{fen // 100}.{fen % 100:02d}"


class HisClient:
    """Sends national messages to ``/his/v1/call`` with an institution's API key."""

    def __init__(self, client, api_key, fixmedins_code, region="310118"):
        self.client, self.api_key = client, api_key
        self.fixmedins_code, self.region = fixmedins_code, region
        self.sent = []  # (message, answer) pairs, for the docs' examples

    def next_msgid(self):
        return (f"{self.fixmedins_code}{datetime.now(CHINA):%Y%m%d%H%M%S}"
                f"{next(_SEQUENCE) % 10000:04d}")

    def envelope(self, infno, body, msgid=None):
        return {
            "infno": infno, "msgid": msgid or self.next_msgid(),
            "mdtrtarea_admvs": self.region, "insuplc_admdvs": "", "recer_sys_code": "YIMA",
            "dev_no": "", "dev_safe_info": "", "cainfo": "", "signtype": "", "infver": "V1.0",
            "opter_type": "1", "opter": "0107", "opter_name": "收费员", "inf_time": china_now(),
            "fixmedins_code": self.fixmedins_code, "fixmedins_name": "定点医疗机构",
            "sign_no": "", "input": body,
        }

    def call(self, infno, body, msgid=None, message=None):
        message = message or self.envelope(infno, body, msgid)
        response = self.client.post("/his/v1/call", data=json.dumps(message, ensure_ascii=False),
                                    content_type="application/json",
                                    headers={"Authorization": f"Bearer {self.api_key}"})
        assert response.status_code == 200, response.get_data(as_text=True)
        self.sent.append((message, response.get_data(as_text=True)))
        return response.json

    def ok(self, infno, body, **kwargs):
        answer = self.call(infno, body, **kwargs)
        assert answer["infcode"] == 0, answer["err_msg"]
        return answer["output"]

    # -- the transactions, by their national inputs ---------------------------------------------

    def person_info(self, code):
        return {"data": {"mdtrt_cert_type": "01", "mdtrt_cert_no": code, "card_sn": "",
                         "begntime": china_now(), "psn_cert_type": "", "certno": "",
                         "psn_name": ""}}

    def register(self, psn_no, cert_no, ipt_otp_no, insutype="310"):
        return {"data": {"psn_no": psn_no, "insutype": insutype, "begntime": china_now(),
                         "mdtrt_cert_type": "01", "mdtrt_cert_no": cert_no,
                         "ipt_otp_no": ipt_otp_no, "atddr_no": "D0001", "dr_name": "王医生",
                         "dept_code": "A03", "dept_name": "内科", "caty": "A03"}}

    def visit_info(self, mdtrt_id, psn_no, med_type="11"):
        return {"mdtrtinfo": {"mdtrt_id": mdtrt_id, "psn_no": psn_no, "med_type": med_type,
                              "begntime": china_now(), "main_cond_dscr": "",
                              "dise_codg": "J06.900", "dise_name": "急性上呼吸道感染",
                              "birctrl_type": "", "birctrl_matn_date": ""},
                "diseinfo": [{"diag_type": "1", "diag_srt_no": "1", "diag_code": "J06.900",
                              "diag_name": "急性上呼吸道感染", "diag_dept": "内科",
                              "dise_dor_no": "D0001", "dise_dor_name": "王医生",
                              "diag_time": china_now(), "vali_flag": "1"}]}

    def fee_lines(self, mdtrt_id, psn_no, lines, batch="B001"):
        """``lines``: (feedetl_sn, med_chrgitm_type, chrgitm_lv, fen, catalogue code)."""
        return {"feedetail": [
            {"feedetl_sn": serial, "mdtrt_id": mdtrt_id, "psn_no": psn_no, "chrg_bchno": batch,
             "dise_codg": "", "rxno": "", "rx_circ_flag": "0", "fee_ocur_time": china_now(),
             "med_list_codg": code, "medins_list_codg": f"H-{code}",
             "det_item_fee_sumamt": yuan(fen), "cnt": 1, "pric": yuan(fen),
             "sin_dos_dscr": "", "used_frqu_dscr": "", "prd_days": 0, "medc_way_dscr": "",
             "bilg_dept_codg": "A03", "bilg_dept_name": "内科", "bilg_dr_codg": "D0001",
             "bilg_dr_name": "王医生", "hosp_appr_flag": "1", "tcmdrug_used_way": "",
             "etip_flag": "", "dscg_tkdrug_flag": "", "matn_fee_flag": "",
             "med_chrgitm_type": item_type, "chrgitm_lv": level}
            for serial, item_type, level, fen, code in lines]}

    def settle_input(self, mdtrt_id, psn_no, cert_no, total_fen, med_type="11",
                     acct_used_flag="1", insutype="310"):
        return {"data": {"psn_no": psn_no, "mdtrt_cert_type": "01", "mdtrt_cert_no": cert_no,
                         "med_type": med_type, "medfee_sumamt": yuan(total_fen),
                         "psn_setlway": "01", "mdtrt_id": mdtrt_id, "chrg_bchno": "0000",
                         "insutype": insutype, "acct_used_flag": acct_used_flag,
                         "invono": "", "fulamt_ownpay_amt": "", "overlmt_selfpay": "",
                         "preselfpay_amt": "", "inscp_scp_amt": ""}}

    def reverse_input(self, mdtrt_id, psn_no, setl_id):
        return {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": psn_no}}

    def query_input(self, mdtrt_id, psn_no, setl_id):
        return {"data": {"psn_no": psn_no, "setl_id": setl_id, "mdtrt_id": mdtrt_id}}

    def reconcile_input(self, day, medfee_fen, fund_fen, acct_fen, count, insutype="310",
                        clr_type="11", setl_optins=""):
        return {"data": {"insutype": insutype, "clr_type": clr_type, "setl_optins": setl_optins,
                         "stmt_begndate": day, "stmt_enddate": day,
                         "medfee_sumamt": yuan(medfee_fen), "fund_pay_sumamt": yuan(fund_fen),
                         "acct_pay": yuan(acct_fen), "fixmedins_setl_cnt": count,
                         "refd_setl_flag": "0"}}

    # -- inpatient ------------------------------------------------------------------------------

    def admit_input(self, psn_no, cert_no, ipt_no, begntime, insutype="310"):
        return {"mdtrtinfo": {
                    "psn_no": psn_no, "insutype": insutype, "coner_name": "陆建华",
                    "tel": "13800000000", "begntime": begntime, "mdtrt_cert_type": "01",
                    "mdtrt_cert_no": cert_no, "med_type": "21", "ipt_no": ipt_no,
                    "medrcdno": ipt_no, "atddr_no": "D0002", "chfpdr_name": "李医生",
                    "adm_diag_dscr": "社区获得性肺炎", "adm_dept_codg": "A03.01",
                    "adm_dept_name": "呼吸内科病区", "adm_bed": "12", "dscg_maindiag_code": "",
                    "dscg_maindiag_name": "", "main_cond_dscr": "", "dise_codg": "J18.9",
                    "dise_name": "肺炎", "oprn_oprt_code": "", "oprn_oprt_name": "",
                    "fpsc_no": "", "matn_type": "", "birctrl_type": "", "latechb_flag": "",
                    "geso_val": "", "fetts": "", "fetus_cnt": "", "pret_flag": "",
                    "birctrl_matn_date": "", "dise_type_code": ""},
                "diseinfo": [{"psn_no": psn_no, "diag_type": "1", "maindiag_flag": "1",
                              "diag_srt_no": "1", "diag_code": "J18.9", "diag_name": "肺炎",
                              "adm_cond": "", "diag_dept": "呼吸内科", "dise_dor_no": "D0002",
                              "dise_dor_name": "李医生", "diag_time": begntime}]}

    def discharge_input(self, mdtrt_id, psn_no, endtime, insutype="310"):
        return {"dscginfo": {"mdtrt_id": mdtrt_id, "psn_no": psn_no, "insutype": insutype,
                             "endtime": endtime, "dise_codg": "J18.9", "dise_name": "肺炎",
                             "oprn_oprt_code": "", "oprn_oprt_name": "", "fpsc_no": "",
                             "matn_type": "", "birctrl_type": "", "latechb_flag": "",
                             "geso_val": "", "fetts": "", "fetus_cnt": "", "pret_flag": "",
                             "birctrl_matn_date": "", "cop_flag": "", "dscg_dept_codg": "A03.01",
                             "dscg_dept_name": "呼吸内科病区", "dscg_bed": "12",
                             "dscg_way": "1", "die_date": ""},
                "diseinfo": []}

    def inpatient_fee_lines(self, mdtrt_id, psn_no, lines, when, batch="Z001"):
        body = self.fee_lines(mdtrt_id, psn_no, lines, batch)
        for line in body["feedetail"]:
            line["fee_ocur_time"] = when
        return body

    def inpatient_settle_input(self, mdtrt_id, psn_no, cert_no, total_fen, insutype="310"):
        return {"data": {"psn_no": psn_no, "mdtrt_cert_type": "01", "mdtrt_cert_no": cert_no,
                         "medfee_sumamt": yuan(total_fen), "psn_setlway": "01",
                         "mdtrt_id": mdtrt_id, "insutype": insutype, "acct_used_flag": "1",
                         "mid_setl_flag": "0", "invono": "", "fulamt_ownpay_amt": "",
                         "overlmt_selfpay": "", "preselfpay_amt": "", "inscp_scp_amt": ""}}
