"""The ceiling: a hello-world app on otpgate's own stack (FastAPI on uvicorn, same settings)."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}
