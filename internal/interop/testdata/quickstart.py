"""Written the way Google's Python webhook quickstart is (quickstart.py and
thread-reply.py), with the standard library's urllib in place of httplib2.

Usage: python3 quickstart.py WEBHOOK_URL
"""
import json
import sys
import urllib.request


def post(url, message):
    request = urllib.request.Request(
        url,
        data=json.dumps(message).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=UTF-8"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        print(response.read().decode("utf-8"))


def main():
    url = sys.argv[1]
    post(url, {"text": "Hello from a Python script!"})
    threaded = url + "&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
    post(threaded, {"text": "Python thread start", "thread": {"threadKey": "python-thread"}})
    post(threaded, {"text": "Python thread reply", "thread": {"threadKey": "python-thread"}})


if __name__ == "__main__":
    main()
