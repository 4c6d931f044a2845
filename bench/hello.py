"""The ceiling: a hello-world app on otpgate's own stack (FastAPI on `serve`'s default server)."""

from fastapi import FastAPI

# as otpgate's own app: FastAPI's OpenTelemetry off (otpgate's metrics are Prometheus's)
app = FastAPI(telemetry={"tracing": False, "metrics": False, "logs": False})


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}
