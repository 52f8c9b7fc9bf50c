#!/bin/sh
echo "deploying the example site"
