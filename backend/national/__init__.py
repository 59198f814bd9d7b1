"""The national medical-insurance interface for designated institutions (两定机构接口, issue 18):
a hospital system's messages (1101, 2201–2208, 2301–2305, 2401–2404, 3201, 5203) answered by
Yima with the same settlement engine as the counter's own API (backend/counter/settlements.py).
No Flask: backend/api/his.py is the front door. docs/national-interface.md describes it."""
