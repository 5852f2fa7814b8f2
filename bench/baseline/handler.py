"""The yardstick: the visitor counter as the Cloud Resume Challenge writes it, one bare function.

One boto3 client made at import (Lambda's init phase), one `update_item` ADD per request,
the new total returned as JSON through an API Gateway proxy response. No framework, no page, no
validation, no day figures: the least a counter can do, so the site is measured against it.

Lambda settings: handler `handler.lambda_handler`, the table's name in DYNAMODB_TABLE. boto3
comes from the Lambda runtime (nothing is packaged); the endpoint is boto3's usual one, which
`AWS_ENDPOINT_URL_DYNAMODB` overrides (the bench points it at DynamoDB Local).
"""

import json
import os

import boto3

TABLE = os.environ["DYNAMODB_TABLE"]
KEY = "bare-total"
dynamodb = boto3.client("dynamodb")


def lambda_handler(event, context):
    result = dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": KEY}},
        UpdateExpression="ADD #count :one",
        ExpressionAttributeNames={"#count": "count"},
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="UPDATED_NEW",
    )
    count = int(result["Attributes"]["count"]["N"])
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"count": count}),
    }
