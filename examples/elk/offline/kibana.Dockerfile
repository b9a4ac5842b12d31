# The stand-in for kibana (compose.offline.yaml): a small Python server, FROM python:3.11 (Debian's Python, no
# packages installed here). ELASTIC_VERSION is the version it says it is.
FROM python:3.11
ARG ELASTIC_VERSION=8.17.4
ENV ELASTIC_VERSION=${ELASTIC_VERSION}
LABEL org.tscompose.example.stand-in-for="kibana:${ELASTIC_VERSION}"
COPY curl /usr/local/bin/curl
COPY kibana.py /usr/share/kibana/stand-in.py
WORKDIR /usr/share/kibana
CMD ["python3", "/usr/share/kibana/stand-in.py"]
