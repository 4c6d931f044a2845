"""The sample requests and answers printed in the vendors' pages (shared/seeds), copied
verbatim: typos, typographic quotes, broken quoting and all. Do not tidy them; the tests
replay them as they are (sample_requests.py says how each language is read)."""

# ruff: noqa: E501, W291

# SessionM, 000_ccafea15fbb080c3.txt, lines 15-19: the SMS Validation Request object
SESSIONM_REQUEST_BODY = r"""{
"external_id": "twiliofeb211",
"to_phone_number": "13139711649",
“message_text”: “Some message text prefixing validation code in sms: ”
}"""


# SessionM, 000_ccafea15fbb080c3.txt, lines 35-38: the format of every 400 answer
SESSIONM_ERROR_ANSWER = r"""{
"status": "Bad Request",
"message": "Message text for error"
}"""


# SessionM, 000_ccafea15fbb080c3.txt, lines 60-64: the SMS Validation Confirmation object
SESSIONM_CONFIRMATION_BODY = r"""{
"external_id": "twiliofeb211",
"to_phone_number": "13139711649",
"validation_code": "383ue73733eee"
}"""


# dotdigital Verify, 001_6e1c245ef0703c5b.txt, lines 31-34: Send a verification code to a phone number
DOTDIGITAL_SEND_CURL = r"""curl -X POST -H "Content-Type: application/json" -user #USER#:#PASSWORD# -d '{
"from": "Test",
"to": "447979080215"
}' 'https://services-cpaas.dotdigital.com/webapi/verify'"""

# dotdigital Verify, 001_6e1c245ef0703c5b.txt, lines 36-42: its response
DOTDIGITAL_SEND_ANSWER = r"""{
"requestId": "0bd57dc3-580c-4c1d-8aee-2ff79bd8633c",
"phoneNumber": "447979080215",
"status": "CodeUnverified",
"numberStatus": "On",
"created": "2016-02-23T11:10:14.552Z"
}"""


# dotdigital Verify, 001_6e1c245ef0703c5b.txt, lines 44-47: Request with a bad phone number supplied
DOTDIGITAL_BAD_NUMBER_CURL = r"""curl -X POST -H "Content-Type: application/json" -user #USER#:#PASSWORD# -d '{
"from": "Test",
"to": "4479790802150"
}' 'https://services-cpaas.dotdigital.com/webapi/verify'"""

# dotdigital Verify, 001_6e1c245ef0703c5b.txt, lines 49-55: its response
DOTDIGITAL_BAD_NUMBER_ANSWER = r"""[
{
"property": "from",
"failureCode": "ToInvalid",
"details": "from is not valid. No value was specified."
}
]"""


# dotdigital Verify, 001_6e1c245ef0703c5b.txt, lines 57-60: Request without an authorization header
DOTDIGITAL_SEND_NO_AUTH_CURL = r"""curl -X POST -H "Content-Type: application/json" -d '{
"from": "Test",
"to": "4479790802150"
}' 'https://services-cpaas.dotdigital.com/webapi/verify'"""

# dotdigital Verify, 001_6e1c245ef0703c5b.txt, lines 62-62: its response
DOTDIGITAL_NO_AUTH_ANSWER = r"""No authorization header supplied or invalid username or password"""


# dotdigital Verify, 001_6e1c245ef0703c5b.txt, lines 64-76: Examples: C# (RestSharp)
DOTDIGITAL_SEND_CSHARP = r"""var body = new[]
{
new
{
from = "Test",
to = "447979080215"
}
};
var client = new RestClient("https://services-cpaas.dotdigital.com/webapi/verify");
var request = new RestRequest(Method.POST);
request.Authenticator = new HttpBasicAuthenticator(userName, password);
request.AddJsonBody(body);
IRestResponse response = client.Execute(request);"""


# dotdigital Verify, 001_6e1c245ef0703c5b.txt, lines 77-80: Examples: curl
DOTDIGITAL_SEND_CURL_COMAPI = r"""curl -X POST -H "Content-Type: application/json" -user #USER#:#PASSWORD# -d '{
"from": "Test",
"to": "447979080215"
}' 'https://services.comapi.com/webapi/verify'"""

# dotdigital Verify, 001_6e1c245ef0703c5b.txt, lines 81-86: Examples: Java (Unirest)
DOTDIGITAL_SEND_JAVA = r"""HttpResponse<String> response = Unirest.post("https://services.comapi.com/webapi/verify")
.header("content-type", "application/json")
.header("cache-control", "no-cache")
.basicAuth(userName, password)
.body("{\n \"from\": \"Test\",\n \"to\": \"447979080215\"\n}\n")
.asString();"""


# dotdigital Verify, 001_6e1c245ef0703c5b.txt, lines 87-106: Examples: jQuery
DOTDIGITAL_SEND_JQUERY = r"""var messages = {
"from": "Test",
"to": "447979080215"
}];
var settings = {
"async": true,
"crossDomain": true,
"url": "https://services.comapi.com/webapi/verify",
"method": "POST",
"headers": {
"content-type": "application/json",
"username": "#USERNAME#",
"password": "#PASSWORD#",
},
"processData": false,
"data": messages
}
$.ajax(settings).done(function (response) {
console.log(response);
});"""


# dotdigital Verify, 001_6e1c245ef0703c5b.txt, lines 107-128: Examples: PHP
DOTDIGITAL_SEND_PHP = r"""<?php
$username = "#USERNAME#";
$password = "#PASSWORD#";
$request = new HttpRequest();
$request->setUrl('https://services.comapi.com/webapi/verify/sendcode');
$request->setMethod(HTTP_METH_POST);
$request->setHeaders(array(
'cache-control' => 'no-cache',
'authorization' => 'Basic ' . base64_encode("$username:$password")
'accept' => 'application/json',
'content-type' => 'application/json'
));
$request->setBody('{
"from": "Test",
"to": "447979080215",
}');
try {
$response = $request->send();
echo $response->getBody();
} catch (HttpException $ex) {
echo $ex;
}"""


# dotdigital Validate Code, 004_e4e43e3162293808.txt, lines 177-179: Validate a matching code
DOTDIGITAL_VALIDATE_CURL = r"""curl -X GET -H "Content-Type: application/json" -user #USER#:#PASSWORD# -d '{
    "code": "12345"
}' 'https://services-cpaas.dotdigital.com/webapi/verify/55569B50-785F-4865-9769-ED1E21CF6A88/validate'"""

# dotdigital Validate Code, 004_e4e43e3162293808.txt, lines 183-185: Response - Code was verified
DOTDIGITAL_VERIFIED_ANSWER = r"""{
  "status": "CodeVerified"
}"""


# dotdigital Validate Code, 004_e4e43e3162293808.txt, lines 189-191: Response - Code was not recognised
DOTDIGITAL_NOT_VERIFIED_ANSWER = r"""{
  "status": "CodeNotVerified"
}"""


# dotdigital Validate Code, 004_e4e43e3162293808.txt, lines 197-199: No code supplied
DOTDIGITAL_NO_CODE_CURL = r"""curl -X GET -H "Content-Type: application/json" -user #USER#:#PASSWORD# -d '{
    "code": ""
}' 'https://services-cpaas.dotdigital.com/webapi/verify/55569B50-785F-4865-9769-ED1E21CF6A88/validate'"""

# dotdigital Validate Code, 004_e4e43e3162293808.txt, lines 203-209: its response
DOTDIGITAL_NO_CODE_ANSWER = r"""[
  {
    "property": "verifyCode",
    "failureCode": "CodeEmpty",
    "details": "verifyCode cannot be null or empty"
  }
]"""


# dotdigital Validate Code, 004_e4e43e3162293808.txt, lines 213-215: Request without an authorization header
DOTDIGITAL_VALIDATE_NO_AUTH_CURL = r"""curl -X GET -H "Content-Type: application/json" -d '{
    "code": "12345"
}' 'https://services-cpaas.dotdigital.com/webapi/verify/55569B50-785F-4865-9769-ED1E21CF6A88/validate'"""

# dotdigital Validate Code, 004_e4e43e3162293808.txt, lines 223-235: Language Examples: C# (RestSharp)
DOTDIGITAL_VALIDATE_CSHARP = r"""Guid requestId = new Guid("0D5C94D4-DF1F-4FC8-82D2-1F64EA548704");
var body = new
{
  code = "12345"
};

// Use RestSharp to call API
var client = new RestClient(string.Format("https://services-cpaas.dotdigital.com/webapi/verify/{0}/validate", requestId);
client.Authenticator = new HttpBasicAuthenticator(userName, password);

var request = new RestRequest();
request.AddJsonBody(body);
IRestResponse response = client.Post(request);"""


# dotdigital Validate Code, 004_e4e43e3162293808.txt, lines 236-237: Language Examples: curl
DOTDIGITAL_VALIDATE_CURL_COMAPI = r"""curl -X GET -H "Content-Type: application/json" -user #USER#:#PASSWORD# 
}' 'https://services.comapi.com/webapi/verify/55569B50-785F-4865-9769-ED1E21CF6A88/validate'"""

# dotdigital Validate Code, 004_e4e43e3162293808.txt, lines 238-244: Language Examples: Java (Unirest)
DOTDIGITAL_VALIDATE_JAVA = r"""string username = "#USERNAME#";
string password = "#PASSWORD#";

HttpResponse<String> response = Unirest.get("https://services.comapi.com/webapi/verify/55569B50-785F-4865-9769-ED1E21CF6A88/validate")
  .header("content-type", "application/json")
  .basicAuth(username, password)
  .asString();"""


# dotdigital Validate Code, 004_e4e43e3162293808.txt, lines 245-260: Language Examples: jQuery
DOTDIGITAL_VALIDATE_JQUERY = r"""var settings = {
  "async": true,
  "crossDomain": true,
  "url": "https://services.comapi.com/webapi/verify/55569B50-785F-4865-9769-ED1E21CF6A88/validate",
  "method": "GET",
  "headers": {
    "content-type": "application/json",
    "username": "#USERNAME#",
    "password": "#PASSWORD#",
  },
  "processData": false
}

$.ajax(settings).done(function (response) {
  console.log(response);
});"""


# dotdigital Validate Code, 004_e4e43e3162293808.txt, lines 261-282: Language Examples: PHP
DOTDIGITAL_VALIDATE_PHP = r"""<?php

$username = "#USERNAME#";
$password = "#PASSWORD#";

$request = new HttpRequest();
$request->setUrl('https://services.comapi.com/webapi/verify/55569B50-785F-4865-9769-ED1E21CF6A88/validate');
$request->setMethod(HTTP_METH_GET);

$request->setHeaders(array(
  'authorization' => 'Basic ' . base64_encode("$username:$password")
  'content-type' => 'application/json'
));

try {
  $response = $request->send();

  echo $response->getBody();
} catch (HttpException $ex) {
  echo $ex;
}"""
