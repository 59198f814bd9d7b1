"""The yardstick for load_bench.py: a bare Flask JSON endpoint (parse the body, answer JSON),
served by the same gunicorn.conf.py as the real app."""
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/bare")
def bare():
    body = request.get_json()
    return jsonify(valid=True, context=body.get("context"))
