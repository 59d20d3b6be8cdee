#!/usr/bin/python3
"""The peer of bench_node: Scrapy crawling the same URL list from the same local site.

For every page it does the work a page extractor does: the title, the visible text of the
body (script and style left out), and every link made absolute, yielded as one item. Items
are counted by an item pipeline, which also sums text bytes and links so the run shows the
extraction really happened. Scrapy keeps its own defaults except for the settings below,
which open it up for a local benchmark (32 requests in flight, no delay, no throttling)
and keep it quiet. robots.txt is obeyed, as meadow's fetcher does.

    taskset -c 0 /usr/bin/python3 scrapy_peer.py --urls FILE [--concurrency 32]

Prints one JSON line on stdout: pages, errors, seconds (spider opened to the last item
counted: interpreter start-up and shutdown left out), cpu_s over the same span, and the averages. Exit code 0 when
every URL became an item.
"""

import argparse
import json
import resource
import sys
import time

import scrapy
from scrapy import signals
from scrapy.crawler import CrawlerProcess


def cpu_seconds():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


class Tally:
    """What the run produced; one per process."""

    pages = 0
    text_bytes = 0
    links = 0
    errors = 0
    first_error = ""
    t0 = None
    cpu0 = None
    t1 = None  # when the last item was counted
    cpu1 = None


class CountingPipeline:
    def process_item(self, item, spider):
        Tally.pages += 1
        Tally.text_bytes += len(item["text"].encode("utf-8"))
        Tally.links += len(item["links"])
        Tally.t1 = time.perf_counter()
        Tally.cpu1 = cpu_seconds()
        return item


class PagesSpider(scrapy.Spider):
    name = "bench_pages"

    def __init__(self, urls_file, **kwargs):
        super().__init__(**kwargs)
        self.urls_file = urls_file

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.opened, signal=signals.spider_opened)
        return spider

    def opened(self, spider):
        Tally.t0 = time.perf_counter()
        Tally.cpu0 = cpu_seconds()

    def start_requests(self):
        with open(self.urls_file, encoding="utf-8") as f:
            for line in f:
                url = line.strip()
                if url:
                    yield scrapy.Request(url, callback=self.parse, errback=self.failed)

    def parse(self, response):
        if response.status != 200:
            self.note_error(f"{response.url}: HTTP {response.status}")
            return
        title = (response.xpath("normalize-space(//title)").get() or "").strip()
        pieces = response.xpath(
            "//body//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::noscript)]"
        ).getall()
        text = " ".join(p.strip() for p in pieces if p.strip())
        links = [response.urljoin(h) for h in response.css("a::attr(href)").getall()]
        yield {"url": response.url, "title": title, "text": text, "links": links}

    def failed(self, failure):
        self.note_error(repr(failure.value))

    def note_error(self, what):
        Tally.errors += 1
        if not Tally.first_error:
            Tally.first_error = what


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--urls", required=True, help="file with one URL a line")
    ap.add_argument("--concurrency", type=int, default=32)
    args = ap.parse_args()

    with open(args.urls, encoding="utf-8") as f:
        expected = sum(1 for line in f if line.strip())

    process = CrawlerProcess(
        settings={
            "ROBOTSTXT_OBEY": True,
            "CONCURRENT_REQUESTS": args.concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": args.concurrency,
            "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False,
            "LOG_LEVEL": "WARNING",
            "TELNETCONSOLE_ENABLED": False,
            "ITEM_PIPELINES": {"__main__.CountingPipeline": 100},
            "USER_AGENT": "scrapy-peer (bench_node)",
            "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
        }
    )
    process.crawl(PagesSpider, urls_file=args.urls)
    process.start()

    seconds = (Tally.t1 - Tally.t0) if Tally.t0 is not None and Tally.t1 is not None else 0.0
    cpu = (Tally.cpu1 - Tally.cpu0) if Tally.cpu0 is not None and Tally.cpu1 is not None else 0.0
    pages = Tally.pages
    errors = Tally.errors + max(0, expected - pages - Tally.errors)
    out = {
        "scrapy": scrapy.__version__,
        "urls": expected,
        "pages": pages,
        "errors": errors,
        "seconds": round(seconds, 3),
        "pages_per_s": round(pages / seconds, 1) if seconds > 0 else 0,
        "cpu_s": round(cpu, 3),
        "cpu_ms_per_page": round(1000 * cpu / pages, 3) if pages else None,
        "text_bytes_avg": round(Tally.text_bytes / pages) if pages else 0,
        "links_avg": round(Tally.links / pages, 1) if pages else 0,
    }
    if Tally.first_error:
        print(f"scrapy_peer: {errors} errors; first: {Tally.first_error}", file=sys.stderr)
    print(json.dumps(out), flush=True)
    return 0 if pages == expected else 1


if __name__ == "__main__":
    sys.exit(main())
