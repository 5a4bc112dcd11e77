"""The rule-based question realizer (``synth/realize.py``) and the names it speaks with
(``synth/names.py``): exact questions per style on the example database, sqlglot-style, and
properties over Spider dev (faithful literals, supported rate, determinism, speed)."""

from __future__ import annotations

import json
import random
import re
import time

import pytest
from sqlglot import exp

from benchdata import BENCHMARKS
from sqlfoundry.db.connectors import connector_for
from sqlfoundry.db.schema import introspect
from sqlfoundry.db.schema_model import Column, Schema, Table
from sqlfoundry.sql.normalize import parse_sql
from sqlfoundry.synth import names
from sqlfoundry.synth.realize import STYLES, realize_question
from sqlfoundry.synth.types import UnsupportedSQL

SPIDER = BENCHMARKS / "spider_dev"


@pytest.fixture(scope="module")
def bookshop(example_sqlite) -> Schema:
    return introspect(connector_for(f"sqlite:///{example_sqlite}"))


# ------------------------------------------------------------------------------------------------
# names.py
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("unit_price", "unit price"),
        ("SongReleaseYear", "song release year"),
        ("HTTPServer", "http server"),
        ("CUSTOMER_NAME", "customer name"),
        ("cust_addr_id", "customer address ID"),
        ("FlightNo", "flight number"),
        ("line_no", "line number"),
        ("no_show", "no show"),
        ("emp_dept_desc", "employee department description"),
        ("order_qty", "order quantity"),
        ("total_amt", "total amount"),
        ("num_items", "number items"),
        ("ship_dt", "ship date"),
        ("prod_pct", "product percent"),
        ("avg_score", "average score"),
        ("isbn", "ISBN"),
        ("address_line_1", "address line 1"),
        ("line2", "line 2"),
        ("floor_area_m2", "floor area m²"),
        ("Fname", "first name"),
        ("sold_at", "time sold"),
        ("opened_on", "date opened"),
        ("is_loyalty_member", "is loyalty member"),
    ],
)
def test_humanize(identifier, expected):
    assert names.humanize(identifier) == expected


@pytest.mark.parametrize(
    ("singular", "plural"),
    [
        ("book", "books"),
        ("category", "categories"),
        ("person", "people"),
        ("status", "statuses"),
        ("address", "addresses"),
        ("bus", "buses"),
        ("match", "matches"),
        ("box", "boxes"),
        ("day", "days"),
        ("wife", "wives"),
        ("hero", "heroes"),
        ("analysis", "analyses"),
        ("child", "children"),
        ("sale item", "sale items"),
        ("singer in concert", "singers in concert"),
        ("ID", "IDs"),
        ("series", "series"),
    ],
)
def test_plural_and_singular(singular, plural):
    assert names.pluralize(singular) == plural
    assert names.singularize(plural) == singular
    assert names.pluralize(plural) == plural  # already plural stays plural
    assert names.singularize(singular) == singular


@pytest.mark.parametrize(
    ("word", "plural"),
    [("books", True), ("people", True), ("statuses", True), ("status", False), ("address", False),
     ("data", False), ("earnings", True), ("news", False)],
)  # fmt: skip
def test_is_plural(word, plural):
    assert names.is_plural(word) is plural


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [("author", "an author"), ("book", "a book"), ("hour", "an hour"), ("user", "a user"),
     ("ID", "an ID"), ("ISBN", "an ISBN"), ("URL", "a URL"), ("8", "an 8"), ("unit price", "a unit price")],
)  # fmt: skip
def test_article(phrase, expected):
    assert names.with_article(phrase) == expected


def test_schema_names_prefer_natural_names():
    assert names.column_name(Column(name="dept_nm", natural_name="department name")) == "department name"
    assert names.column_name(Column(name="dept_nm")) == "department nm"
    # a natural name that only lowercases the identifier hides its word breaks: split the identifier
    assert names.column_name(Column(name="CountryCode", natural_name="countrycode")) == "country code"
    assert names.column_name(Column(name="stuid", natural_name="student id")) == "student ID"
    assert names.table_noun(Table(name="Students")) == "student"
    assert names.table_noun(Table(name="Students"), plural=True) == "students"
    assert names.table_noun(Table(name="tbl", natural_name="people")) == "person"
    assert names.table_noun(Table(name="has_pet"), plural=True) == "has pet records"
    assert names.table_noun(Table(name="inventory"), plural=True) == "inventory records"
    assert names.table_noun(Table(name="staff")) == "staff member"
    assert names.table_noun(Table(name="tv_series"), plural=True) == "TV series"


# ------------------------------------------------------------------------------------------------
# realize.py: exact questions per style (seed 0)
# ------------------------------------------------------------------------------------------------
CASES = [
    (
        "SELECT title, list_price FROM book WHERE genre = 'Fiction' AND list_price > 20",
        {
            "formal": "Kindly list the title and list price of each book whose genre is 'Fiction' and whose list price exceeds 20.",
            "colloquial": 'I need the titles and list prices of books with genre "Fiction" and list price above 20, please.',
            "imperative": "Give me the titles and list prices of books where the genre is 'Fiction' and the list price is above 20.",
            "interrogative": "Can you list the titles and list prices of books where the genre is 'Fiction' and the list price is more than 20?",
            "concise": "Title and list price of each book with genre 'Fiction' and list price over 20",
        },
    ),
    (
        "SELECT first_name, last_name FROM customer WHERE is_loyalty_member = 1 AND city = 'Paris'",
        {
            "formal": "Kindly list the first name and last name of each customer whose city is 'Paris' and who is a loyalty member.",
            "colloquial": 'Can you show me the first name and last name of each customer with city "Paris" and who is a loyalty member?',
            "imperative": "List the first name and last name of each customer whose city is 'Paris' and who is a loyalty member.",
            "interrogative": "What are the first name and last name of each customer whose city is 'Paris' and who is a loyalty member?",
            "concise": "First name and last name of each customer with city 'Paris' and who is a loyalty member",
        },
    ),
    (
        "SELECT COUNT(*) FROM book WHERE strftime('%Y', published_date) = '2020'",
        {
            "formal": "Please state the count of books whose published date is in 2020.",
            "colloquial": "Hey, what's the number of books with published date in 2020?",
            "imperative": "Give me the number of books where the published date is in 2020.",
            "interrogative": "How many books are there where the published date is in 2020?",
            "concise": "Count of books with published date in 2020.",
        },
    ),
    (
        "SELECT title FROM book WHERE published_date < '2021-03-01' ORDER BY published_date DESC LIMIT 5",
        {
            "formal": "Please enumerate the titles of the 5 books with the most recent published date among books whose published date is earlier than March 1, 2021.",
            "colloquial": "Hey, what are the titles of the 5 books with the latest published date among books with published date before March 1, 2021?",
            "imperative": "Return the titles of the 5 books with the latest published date among books where the published date is earlier than March 1, 2021.",
            "interrogative": "Can you list the titles of the 5 books with the latest published date among books where the published date is earlier than March 1, 2021?",
            "concise": "Titles of the 5 books with the latest published date among books with published date before March 1, 2021",
        },
    ),
    (
        "SELECT genre, COUNT(*) FROM book GROUP BY genre HAVING COUNT(*) > 50 ORDER BY COUNT(*) DESC",
        {
            "formal": "Kindly list the genres with more than 50 books, and the count of books of each, listed in descending order of number of books.",
            "colloquial": "Can you show me the genres with more than 50 books, and the number of books of each, sorted by number of books from highest to lowest?",
            "imperative": "Return each genre with more than 50 books, together with its number of books, ordered by number of books from highest to lowest.",
            "interrogative": "Can you list the genres with more than 50 books, and the number of books of each, sorted by number of books from highest to lowest?",
            "concise": "Each genre with more than 50 books, with its count of books, by number of books, descending",
        },
    ),
    (
        "SELECT T1.title FROM book AS T1 JOIN publisher AS T2 ON T1.publisher_id = T2.publisher_id WHERE T2.country = 'France'",
        {
            "formal": "Kindly indicate the title of each book whose publisher's country is 'France'.",
            "colloquial": 'Can you tell me the title of each book with publisher\'s country "France"?',
            "imperative": "Find the title of each book where the publisher's country is 'France'.",
            "interrogative": "What is the title of each book where the publisher's country is 'France'?",
            "concise": "Title of each book with publisher's country 'France'",
        },
    ),
    (
        "SELECT first_name, last_name FROM customer WHERE customer_id NOT IN (SELECT customer_id FROM review)",
        {
            "formal": "Kindly list the first name and last name of each customer without any review.",
            "colloquial": "I need the first names and last names of customers without any review, please.",
            "imperative": "Give me the first names and last names of customers without any review.",
            "interrogative": "Can you list the first names and last names of customers without any review?",
            "concise": "First name and last name of each customer without any review",
        },
    ),
    (
        "SELECT title FROM book WHERE list_price > (SELECT AVG(list_price) FROM book)",
        {
            "formal": "Please enumerate the titles of books whose list price exceeds the mean list price of all books.",
            "colloquial": "I need the titles of books with list price above the average list price of all books, please.",
            "imperative": "Give me the titles of books where the list price is above the average list price of all books.",
            "interrogative": "Can you list the titles of books where the list price is more than the average list price of all books?",
            "concise": "Title of each book with list price over the average list price of all books",
        },
    ),
    (
        "SELECT name FROM store WHERE name LIKE 'Pages%' AND country IN ('France', 'Germany', 'Spain')",
        {
            "formal": "Kindly indicate the name of each store whose name begins with 'Pages' and whose country is one of 'France', 'Germany' or 'Spain'.",
            "colloquial": 'I need the names of stores with name starting with "Pages" and country in "France", "Germany" or "Spain", please.',
            "imperative": "Give me the names of stores where the name begins with 'Pages' and the country is one of 'France', 'Germany' or 'Spain'.",
            "interrogative": "Can you list the names of stores where the name begins with 'Pages' and the country is one of 'France', 'Germany' or 'Spain'?",
            "concise": "Name of each store with name starting with 'Pages' and country in 'France', 'Germany' or 'Spain'",
        },
    ),
    (
        "SELECT title FROM book WHERE title LIKE '%Garden%' OR pages BETWEEN 100 AND 200",
        {
            "formal": "Kindly indicate the title of each book whose title includes 'Garden' or whose pages are between 100 and 200 inclusive.",
            "colloquial": 'I need the titles of books whose title includes "Garden" or whose pages are between 100 and 200, please.',
            "imperative": "Give me the titles of books whose title includes 'Garden' or whose pages are between 100 and 200.",
            "interrogative": "Can you list the titles of books whose title includes 'Garden' or whose pages are between 100 and 200 inclusive?",
            "concise": "Title of each book whose title contains 'Garden' or whose pages are between 100 and 200",
        },
    ),
    (
        "SELECT CAST(SUM(CASE WHEN is_loyalty_member = 1 THEN 1 ELSE 0 END) AS REAL) * 100 / COUNT(*) FROM customer",
        {
            "formal": "Kindly indicate the percentage of customers who are loyalty members.",
            "colloquial": "Hey, what's the percentage of customers who are loyalty members?",
            "imperative": "Give me the percentage of customers who are loyalty members.",
            "interrogative": "Do you know the percentage of customers who are loyalty members?",
            "concise": "Percentage of customers who are loyalty members",
        },
    ),
    (
        "SELECT T2.name, COUNT(*) FROM book AS T1 JOIN publisher AS T2 ON T1.publisher_id = T2.publisher_id GROUP BY T2.publisher_id ORDER BY COUNT(*) DESC LIMIT 3",
        {
            "formal": "Please enumerate the name and count of books of the 3 publishers with the largest number of books.",
            "colloquial": "Hey, what are the name and number of books of the 3 publishers with the most books?",
            "imperative": "Return the name and number of books of the 3 publishers with the most books.",
            "interrogative": "Can you list the name and number of books of the 3 publishers with the most books?",
            "concise": "Name and count of books of the 3 publishers with the most books",
        },
    ),
    (
        "SELECT title, RANK() OVER (PARTITION BY genre ORDER BY list_price DESC) AS price_rank FROM book",
        {
            "formal": "Kindly list the title and rank by list price (highest first) within its genre of each book.",
            "colloquial": "Hey, what are the title and rank by list price (highest first) within its genre of each book?",
            "imperative": "Return the title and rank by list price (highest first) within its genre of each book.",
            "interrogative": "Can you list the title and rank by list price (highest first) within its genre of each book?",
            "concise": "Title and rank by list price (highest first) within its genre of each book",
        },
    ),
    (
        "WITH genre_stats AS (SELECT genre, AVG(list_price) AS avg_price FROM book GROUP BY genre) SELECT genre FROM genre_stats WHERE avg_price > 20",
        {
            "formal": "Please provide the genres whose mean list price exceeds 20.",
            "colloquial": "Can you show me the genres with average list price above 20?",
            "imperative": "List the genres where the average list price is above 20.",
            "interrogative": "What are the genres where the average list price is more than 20?",
            "concise": "Genres with average list price over 20",
        },
    ),
    (
        "SELECT city FROM customer INTERSECT SELECT city FROM store",
        {
            "formal": "Kindly list the cities found both among all customers and among all stores.",
            "colloquial": "Hey, what are the cities found both among all customers and among all stores?",
            "imperative": "Return the cities found both among all customers and among all stores.",
            "interrogative": "Can you list the cities found both among all customers and among all stores?",
            "concise": "Cities found both among all customers and among all stores",
        },
    ),
    (
        "SELECT name FROM publisher EXCEPT SELECT T2.name FROM book AS T1 JOIN publisher AS T2 ON T1.publisher_id = T2.publisher_id WHERE T1.genre = 'Poetry'",
        {
            "formal": "Kindly list the names of publishers, excluding those that are also the names of the publishers of books whose genre is 'Poetry'.",
            "colloquial": 'Can you show me the names of publishers, excluding those that are also the names of the publishers of books with genre "Poetry"?',
            "imperative": "List the names of publishers, excluding those that are also the names of the publishers of books where the genre is 'Poetry'.",
            "interrogative": "What are the names of publishers, excluding those that are also the names of the publishers of books where the genre is 'Poetry'?",
            "concise": "Names of publishers, excluding those that are also the names of the publishers of books with genre 'Poetry'",
        },
    ),
    (
        "SELECT DISTINCT T3.country FROM sale AS T1 JOIN store AS T3 ON T1.store_id = T3.store_id WHERE T1.payment_method = 'cash'",
        {
            "formal": "Kindly list the distinct countries of the stores of sales whose payment method is 'cash'.",
            "colloquial": 'Can you show me the different countries of the stores of sales with payment method "cash"?',
            "imperative": "List the different countries of the stores of sales where the payment method is 'cash'.",
            "interrogative": "What are the different countries of the stores of sales where the payment method is 'cash'?",
            "concise": "Unique countries of the stores of sales with payment method 'cash'",
        },
    ),
    (
        "SELECT first_name FROM employee WHERE hire_date >= '2020-01-01' AND email IS NOT NULL",
        {
            "formal": "Please enumerate the first names of employees whose hire date is on or after January 1, 2020 and whose email is present.",
            "colloquial": "I need the first names of employees where the hire date is on or after January 1, 2020 and the email is given, please.",
            "imperative": "Give me the first names of employees whose hire date is on or after January 1, 2020 and whose email is present.",
            "interrogative": "Can you list the first names of employees whose hire date is on or after January 1, 2020 and whose email is known?",
            "concise": "First name of each employee with hire date on or after January 1, 2020 and email not missing",
        },
    ),
    (
        "SELECT T1.first_name, T2.first_name FROM employee AS T1 JOIN employee AS T2 ON T1.manager_id = T2.employee_id",
        {
            "formal": "Kindly list the first name and manager's first name of each employee.",
            "colloquial": "Hey, what are the first name and manager's first name of each employee?",
            "imperative": "Return the first name and manager's first name of each employee.",
            "interrogative": "Can you list the first name and manager's first name of each employee?",
            "concise": "First name and manager's first name of each employee",
        },
    ),
    (
        "SELECT c.first_name FROM customer AS c WHERE EXISTS (SELECT 1 FROM review AS r WHERE r.customer_id = c.customer_id AND r.rating = 5)",
        {
            "formal": "Kindly indicate the first name of each customer with a review whose rating is 5.",
            "colloquial": "I need the first names of customers with a review with rating 5, please.",
            "imperative": "Give me the first names of customers with a review where the rating is 5.",
            "interrogative": "Can you list the first names of customers with a review where the rating is 5?",
            "concise": "First name of each customer with a review with rating 5",
        },
    ),
    (
        "SELECT title, CASE WHEN list_price > 20 THEN 'expensive' ELSE 'cheap' END AS price_band FROM book",
        {
            "formal": "Kindly list the title and price band ('expensive' when the list price exceeds 20, otherwise 'cheap') of each book.",
            "colloquial": 'Hey, what are the title and price band ("expensive" when the list price is over 20, otherwise "cheap") of each book?',
            "imperative": "Return the title and price band ('expensive' when the list price is above 20, otherwise 'cheap') of each book.",
            "interrogative": "Can you list the title and price band ('expensive' when the list price is more than 20, otherwise 'cheap') of each book?",
            "concise": "Title and price band ('expensive' when the list price is greater than 20, otherwise 'cheap') of each book",
        },
    ),
    (
        "SELECT AVG(julianday(T2.refunded_at) - julianday(T1.sold_at)) FROM sale AS T1 JOIN refund AS T2 ON T1.sale_id = T2.sale_id",
        {
            "formal": "Kindly indicate the mean of the number of days from the sale's time sold to the time refunded over all refunds.",
            "colloquial": "Hey, what's the average of the number of days from the sale's time sold to the time refunded over all refunds?",
            "imperative": "Give me the average of the number of days from the sale's time sold to the time refunded over all refunds.",
            "interrogative": "Do you know the average of the number of days from the sale's time sold to the time refunded over all refunds?",
            "concise": "Average of the number of days from the sale's time sold to the time refunded over all refunds",
        },
    ),
    (
        "SELECT SUM(quantity * unit_price) FROM sale_item WHERE discount IS NULL",
        {
            "formal": "Kindly indicate the total of the quantity times unit price for sale items whose discount is missing.",
            "colloquial": "Hey, what's the total of the quantity times unit price over sale items with discount empty?",
            "imperative": "Give me the total of the quantity times unit price over sale items where the discount is null.",
            "interrogative": "Do you know the total of the quantity times unit price over sale items where the discount is not recorded?",
            "concise": "Total of the quantity multiplied by unit price over sale items with discount missing",
        },
    ),
    (
        "SELECT first_name || ' ' || last_name, LENGTH(last_name) FROM author WHERE country != 'Italy'",
        {
            "formal": "Kindly list the first name and last name joined by a space, and length of the last name of each author whose country is other than 'Italy'.",
            "colloquial": 'Could you pull up the first name and last name joined by a space, and length of the last name of each author where the country is not "Italy"?',
            "imperative": "List the first name and last name joined by a space, and length of the last name of each author where the country is not 'Italy'.",
            "interrogative": "Can you list the first name and last name joined by a space, and length of the last name of each author whose country differs from 'Italy'?",
            "concise": "First name and last name joined by a space, and length of the last name of each author with country not 'Italy'",
        },
    ),
    (
        "SELECT title FROM book WHERE NOT (genre = 'Fiction' OR genre = 'Mystery')",
        {
            "formal": "Please enumerate the titles of books whose genre is neither 'Fiction' nor 'Mystery'.",
            "colloquial": 'I need the titles of books where the genre is neither "Fiction" nor "Mystery", please.',
            "imperative": "Find the title of each book where the genre is neither 'Fiction' nor 'Mystery'.",
            "interrogative": "Can you list the titles of books whose genre is neither 'Fiction' nor 'Mystery'?",
            "concise": "Title of each book with genre neither 'Fiction' nor 'Mystery'",
        },
    ),
    (
        "SELECT name FROM store WHERE is_flagship = 0 ORDER BY floor_area_m2",
        {
            "formal": "Please state the name of each store that is not a flagship, listed in ascending order of floor area m².",
            "colloquial": "I need the names of stores that are not flagships, sorted by floor area m² from lowest to highest, please.",
            "imperative": "Return the names of stores that are not flagships, ordered by floor area m² from lowest to highest.",
            "interrogative": "Can you list the names of stores that are not flagships, listed by floor area m² from lowest to highest?",
            "concise": "Name of each store that is not a flagship, by floor area m², ascending",
        },
    ),
    (
        "SELECT AVG(rating), MIN(rating), MAX(rating) FROM review WHERE strftime('%Y-%m', reviewed_on) = '2021-03'",
        {
            "formal": "Please provide the mean, minimum and maximum rating of reviews whose date reviewed is in March 2021.",
            "colloquial": "Can you show me the average, smallest and biggest rating of reviews with date reviewed in March 2021?",
            "imperative": "List the average, minimum and maximum rating of reviews where the date reviewed is in March 2021.",
            "interrogative": "What are the average, minimum and maximum rating of reviews where the date reviewed is in March 2021?",
            "concise": "Average, minimum and maximum rating of reviews with date reviewed in March 2021",
        },
    ),
    (
        "SELECT T1.title FROM book AS T1 JOIN book_author AS T2 ON T1.book_id = T2.book_id JOIN author AS T3 ON T2.author_id = T3.author_id WHERE T3.country = 'Canada'",
        {
            "formal": "Kindly indicate the title of each book with an author whose country is 'Canada'.",
            "colloquial": 'I need the titles of books with an author whose country is "Canada", please.',
            "imperative": "Give me the titles of books with an author whose country is 'Canada'.",
            "interrogative": "Can you list the titles of books with an author whose country is 'Canada'?",
            "concise": "Title of each book with an author whose country is 'Canada'",
        },
    ),
    (
        "WITH ranked_book AS (SELECT genre, title, pages, RANK() OVER (PARTITION BY genre ORDER BY pages) AS pages_rank FROM book WHERE pages IS NOT NULL) SELECT genre, title, pages FROM ranked_book WHERE pages_rank = 1",
        {
            "formal": "Please enumerate the genres, titles and pages of books whose pages are present and whose rank by pages (lowest first) within its genre is 1.",
            "colloquial": "Could you pull up the genres, titles and pages of books with pages given and rank by pages (lowest first) within its genre 1?",
            "imperative": "Find the genres, titles and pages of books where the pages are present and the rank by pages (lowest first) within its genre is 1.",
            "interrogative": "Can you list the genres, titles and pages of books where the pages are known and the rank by pages (lowest first) within its genre is 1?",
            "concise": "Genre, title and pages of each book with pages not missing and rank by pages (lowest first) within its genre 1",
        },
    ),
    (
        "SELECT name FROM publisher WHERE publisher_id IN (SELECT publisher_id FROM book GROUP BY publisher_id HAVING COUNT(*) > 30)",
        {
            "formal": "Kindly indicate the name of each publisher with more than 30 books.",
            "colloquial": "I need the names of publishers with more than 30 books, please.",
            "imperative": "Give me the names of publishers with more than 30 books.",
            "interrogative": "Can you list the names of publishers with more than 30 books?",
            "concise": "Name of each publisher with more than 30 books",
        },
    ),
    (
        "SELECT T1.sale_id FROM sale_item AS T1 WHERE EXISTS (SELECT 1 FROM refund AS T2 WHERE T2.sale_id = T1.sale_id AND T2.line_no = T1.line_no AND T2.reason = 'damaged copy')",
        {
            "formal": "Kindly indicate the sale ID of each sale item with a refund whose reason is 'damaged copy'.",
            "colloquial": 'I need the sale IDs of sale items with a refund with reason "damaged copy", please.',
            "imperative": "Give me the sale IDs of sale items with a refund where the reason is 'damaged copy'.",
            "interrogative": "Can you list the sale IDs of sale items with a refund where the reason is 'damaged copy'?",
            "concise": "Sale ID of each sale item with a refund with reason 'damaged copy'",
        },
    ),
    (
        "SELECT title FROM book WHERE (genre = 'Fiction' AND pages > 300) OR (genre = 'Poetry' AND pages < 100)",
        {
            "formal": "Please enumerate the titles of books for which either both the genre is 'Fiction' and the pages exceed 300, or both the genre is 'Poetry' and the pages are below 100.",
            "colloquial": 'I need the titles of books for which either both the genre is "Fiction" and the pages are over 300, or both the genre is "Poetry" and the pages are under 100, please.',
            "imperative": "Give me the titles of books for which either both the genre is 'Fiction' and the pages are above 300, or both the genre is 'Poetry' and the pages are below 100.",
            "interrogative": "Can you list the titles of books for which either both the genre is 'Fiction' and the pages are more than 300, or both the genre is 'Poetry' and the pages are lower than 100?",
            "concise": "Titles of books for which either both the genre is 'Fiction' and the pages are greater than 300, or both the genre is 'Poetry' and the pages are less than 100",
        },
    ),
    (
        "SELECT T1.name, T2.n FROM store AS T1 JOIN (SELECT store_id, COUNT(*) AS n FROM sale GROUP BY store_id HAVING COUNT(*) > 100) AS T2 ON T1.store_id = T2.store_id",
        {
            "formal": "Please provide the name and count of sales of each store that is among the stores with more than 100 sales.",
            "colloquial": "I need the name and number of sales of each store that is among the stores with more than 100 sales, please.",
            "imperative": "Give me the name and number of sales of each store that is among the stores with more than 100 sales.",
            "interrogative": "Can you list the name and number of sales of each store that is among the stores with more than 100 sales?",
            "concise": "Name and count of sales of each store that is among the stores with more than 100 sales.",
        },
    ),
    (
        "SELECT title FROM book ORDER BY list_price DESC LIMIT 3 OFFSET 2",
        {
            "formal": "Kindly list the titles of the 3 books that come after the first 2 when books are sorted in descending order of list price.",
            "colloquial": "Can you show me the titles of the 3 books that come after the first 2 when books are sorted by list price from highest to lowest?",
            "imperative": "List the titles of the 3 books that come after the first 2 when books are sorted by list price from highest to lowest.",
            "interrogative": "What are the titles of the 3 books that come after the first 2 when books are sorted by list price from highest to lowest?",
            "concise": "Titles of the 3 books that come after the first 2 when books are sorted by list price, descending",
        },
    ),
    (
        "SELECT first_name FROM employee WHERE employee_id IN (SELECT manager_id FROM employee WHERE is_active = 0)",
        {
            "formal": "Kindly indicate the first name of each employee that is the manager of an employee who is not active.",
            "colloquial": "I need the first names of employees that are the manager of an employee who is not active, please.",
            "imperative": "Give me the first names of employees that are the manager of an employee who is not active.",
            "interrogative": "Can you list the first names of employees that are the manager of an employee who is not active?",
            "concise": "First name of each employee that is the manager of an employee who is not active",
        },
    ),
]


@pytest.mark.parametrize(("sql", "expected"), CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_exact_questions(bookshop, sql, expected):
    for style in STYLES:
        assert realize_question(sql, bookshop, style, random.Random(0)).question == expected[style], style


@pytest.mark.parametrize(
    ("sql", "style", "question", "evidence"),
    [
        (
            "SELECT first_name, last_name FROM customer WHERE is_loyalty_member = 1 AND city = 'Paris'",
            "formal",
            "Kindly list the first name and last name of each customer whose city is 'Paris' and who is a "
            "loyalty member.",
            "loyalty members refers to is_loyalty_member = 1",
        ),
        (
            "SELECT COUNT(*) FROM book WHERE strftime('%Y', published_date) = '2020'",
            "interrogative",
            "How many books are there where the published date is in 2020?",
            "published date in 2020 refers to STRFTIME('%Y', published_date) = '2020'",
        ),
        (
            "SELECT CAST(SUM(CASE WHEN is_loyalty_member = 1 THEN 1 ELSE 0 END) AS REAL) * 100 / COUNT(*) "
            "FROM customer",
            "imperative",
            "Give me the percentage of customers who are loyalty members.",
            "loyalty members refers to is_loyalty_member = 1; percentage of customers who are loyalty members = "
            "CAST(SUM(CASE WHEN is_loyalty_member = 1 THEN 1 ELSE 0 END) AS REAL) * 100 / COUNT(*)",
        ),
        (
            "SELECT title, RANK() OVER (PARTITION BY genre ORDER BY list_price DESC) AS price_rank FROM book",
            "concise",
            "Title and rank by list price (highest first) within its genre of each book",
            "rank by list price (highest first) within its genre refers to "
            "RANK() OVER (PARTITION BY genre ORDER BY list_price DESC)",
        ),
        (
            "SELECT title, CASE WHEN list_price > 20 THEN 'expensive' ELSE 'cheap' END AS price_band FROM book",
            "formal",
            "Kindly list the title and price band ('expensive' when the list price exceeds 20, otherwise "
            "'cheap') of each book.",
            "price band refers to CASE WHEN list_price > 20 THEN 'expensive' ELSE 'cheap' END",
        ),
        (
            "SELECT AVG(julianday(T2.refunded_at) - julianday(T1.sold_at)) FROM sale AS T1 "
            "JOIN refund AS T2 ON T1.sale_id = T2.sale_id",
            "colloquial",
            "Hey, what's the average of the number of days from the sale's time sold to the time refunded over "
            "all refunds?",
            "number of days from the sale's time sold to the time refunded = "
            "JULIANDAY(refunded_at) - JULIANDAY(sold_at)",
        ),
        (
            "SELECT AVG(rating), MIN(rating), MAX(rating) FROM review "
            "WHERE strftime('%Y-%m', reviewed_on) = '2021-03'",
            "interrogative",
            "What are the average, minimum and maximum rating of reviews where the date reviewed is in March 2021?",
            "date reviewed in March 2021 refers to STRFTIME('%Y-%m', reviewed_on) = '2021-03'",
        ),
        (
            "SELECT title FROM book WHERE title LIKE 'The_%'",
            "formal",
            "Kindly indicate the title of each book whose title matches the pattern 'The_%'.",
            "in the pattern 'The_%', % stands for any text and _ for any single character",
        ),
        (
            "SELECT genre FROM book GROUP BY genre ORDER BY COUNT(*) DESC LIMIT 1",
            "interrogative",
            "Which genre has the most books?",
            "most books refers to MAX(COUNT(*))",
        ),
        (
            "SELECT title FROM book WHERE strftime('%Y', published_date) BETWEEN '2018' AND '2020'",
            "formal",
            "Kindly indicate the title of each book whose published date is in a year between 2018 and 2020.",
            "published date in a year between 2018 and 2020 refers to "
            "STRFTIME('%Y', published_date) BETWEEN '2018' AND '2020'",
        ),
    ],
)
def test_evidence(bookshop, sql, style, question, evidence):
    got = realize_question(sql, bookshop, style, random.Random(0), with_evidence=True)
    assert (got.question, got.evidence, got.style) == (question, evidence, style)
    # evidence never changes the question itself
    assert realize_question(sql, bookshop, style, random.Random(0)).question == question


def test_no_evidence_unless_asked(bookshop):
    got = realize_question(
        "SELECT name FROM store WHERE is_flagship = 1", bookshop, "formal", random.Random(0)
    )
    assert got.evidence is None


@pytest.mark.parametrize(
    ("sql", "construct"),
    [
        ("SELECT T1.name FROM store AS T1 LEFT JOIN sale AS T2 ON T1.store_id = T2.store_id", "LEFT OUTER JOIN"),
        ("SELECT * FROM book, publisher", "cross join"),
        ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r", "recursive CTE"),
        ("SELECT SUM(list_price) OVER (ORDER BY published_date ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) "
         "FROM book", "window frame"),
        ("SELECT title FROM book WHERE title GLOB 'A*'", "GLOB"),
        ("SELECT nope FROM book", "unknown column"),
        ("SELECT title FROM nowhere", "unknown table"),
        ("SELECT title FROM book LIMIT 0", "LIMIT 0"),
        ("DELETE FROM book", "DELETE"),
        ("SELEC title FROM", "unparseable"),
    ],
)  # fmt: skip
def test_unsupported_sql_names_the_construct(bookshop, sql, construct):
    with pytest.raises(UnsupportedSQL, match=re.escape(construct)):
        realize_question(sql, bookshop, "formal", random.Random(0))


def test_unknown_style(bookshop):
    with pytest.raises(ValueError, match="unknown question style 'vague'"):
        realize_question("SELECT title FROM book", bookshop, "vague", random.Random(0))


def test_same_seed_same_text_and_seeds_vary_it(bookshop):
    sql = "SELECT title, list_price FROM book WHERE genre = 'Fiction' AND list_price > 20 ORDER BY list_price DESC"
    for style in STYLES:
        runs = {realize_question(sql, bookshop, style, random.Random(7)).question for _ in range(3)}
        assert len(runs) == 1
    texts = {
        realize_question(sql, bookshop, "imperative", random.Random(seed)).question for seed in range(20)
    }
    assert len(texts) > 3  # several paraphrase templates per construct


def test_styles_differ(bookshop):
    for sql, _ in CASES:
        for seed in range(3):
            texts = [realize_question(sql, bookshop, s, random.Random(seed)).question for s in STYLES]
            assert len(set(texts)) == len(STYLES), (sql, texts)


# ------------------------------------------------------------------------------------------------
# Properties: literals are all mentioned, over the sampler's output and over Spider dev
# ------------------------------------------------------------------------------------------------
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")  # fmt: skip


def _literals(sql: str, schema: Schema) -> list[str]:
    """Values a question must mention: literals compared with data (not LIMIT counts, not CASE's 1/0 and
    100 inside a percentage, not strftime formats), plus Spider's "double-quoted" strings."""
    tree = parse_sql(sql)
    known = {c.name.lower() for t in schema.tables for c in t.columns}
    out = []
    for node in tree.find_all(exp.Literal, exp.Column):
        if isinstance(node, exp.Column):
            if not node.table and node.this.args.get("quoted") and node.name.lower() not in known:
                out.append(node.name.strip("%"))
            continue
        parent = node.parent
        if isinstance(parent, exp.Select) and isinstance(parent.parent, exp.Exists):
            continue  # SELECT 1 inside EXISTS
        if (
            isinstance(parent, (exp.Limit, exp.Offset, exp.TimeToStr, exp.If, exp.Case))
            or node.arg_key == "format"
        ):
            continue
        if isinstance(parent, (exp.Mul, exp.Div)) or isinstance(parent, exp.Anonymous):
            continue
        if isinstance(parent, (exp.Substring, exp.Round, exp.Lag, exp.Lead, exp.Ntile, exp.DPipe)):
            continue
        out.append(str(node.this).strip("%"))
    return out


def _mentioned(text: str, literal: str) -> bool:
    low = text.lower().replace(",", "")
    lit = literal.lower().strip().replace(",", "")
    if not lit or lit in low:
        return True
    if lit == "now":
        return "today" in low or "current" in low
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", lit)
    if (
        m
        and 1 <= int(m.group(2)) <= 12
        and f"{_MONTHS[int(m.group(2)) - 1]} {int(m.group(3))} {m.group(1)}" in low
    ):
        return True
    if re.fullmatch(r"\d{4}-\d{2}", lit) and _MONTHS[int(lit[5:]) - 1] in low and lit[:4] in low:
        return True
    if re.fullmatch(r"\d{1,2}", lit) and 1 <= int(lit) <= 12 and _MONTHS[int(lit) - 1] in low:
        return True
    try:
        number = float(lit)
    except ValueError:
        return False
    return number == int(number) and str(int(number)) in low


def _check_faithful(sql: str, schema: Schema, style: str, seed: int) -> str | None:
    """None when the question mentions every literal; otherwise what is missing. Raises UnsupportedSQL."""
    got = realize_question(sql, schema, style, random.Random(seed), with_evidence=True)
    assert got.question.strip() and got.style == style
    text = f"{got.question} {got.evidence or ''}"
    missing = [lit for lit in _literals(sql, schema) if not _mentioned(text, lit)]
    return f"{sql!r} -> {got.question!r} misses {missing}" if missing else None


def test_sampled_queries_are_phrased_faithfully(bookshop):
    from sqlfoundry.synth.sampler import SamplerConfig, sample_queries

    queries = list(sample_queries(bookshop, SamplerConfig(seed=3), 300))
    supported, problems = 0, []
    for i, q in enumerate(queries):
        try:
            problem = _check_faithful(q.sql, bookshop, STYLES[i % len(STYLES)], i)
        except UnsupportedSQL as exc:
            assert not str(exc).startswith("unexpected"), (q.sql, str(exc))
            continue
        supported += 1
        if problem:
            problems.append(problem)
    assert not problems, problems[:5]
    assert supported >= 0.9 * len(queries)


@pytest.mark.benchmarkdata
@pytest.mark.skipif(
    not (SPIDER / "dev.json").is_file(),
    reason=f"Spider dev data not found at {SPIDER} (set SQLFOUNDRY_BENCHMARKS)",
)
def test_spider_dev_questions_mention_every_literal():
    from sqlfoundry.db.spider_tables import read_tables_json

    schemas = {s.db_id: s for s in read_tables_json(SPIDER / "tables.json")}
    examples = json.loads((SPIDER / "dev.json").read_text(encoding="utf-8"))
    assert len(examples) >= 300
    supported, problems, reasons = 0, [], {}
    for i, ex in enumerate(examples):
        try:
            problem = _check_faithful(ex["query"], schemas[ex["db_id"]], STYLES[i % len(STYLES)], i)
        except UnsupportedSQL as exc:
            assert not str(exc).startswith("unexpected"), (ex["query"], str(exc))
            reasons[str(exc)] = reasons.get(str(exc), 0) + 1
            continue
        supported += 1
        if problem:
            problems.append(problem)
    rate = supported / len(examples)
    print(f"\nSpider dev: {supported}/{len(examples)} queries phrased ({rate:.1%}); unsupported: {reasons}")
    assert not problems, problems[:5]
    assert rate >= 0.70


BIRD = BENCHMARKS / "bird" / "dev"


@pytest.mark.benchmarkdata
@pytest.mark.skipif(
    not (BIRD / "dev.json").is_file(), reason=f"BIRD dev data not found at {BIRD} (set SQLFOUNDRY_BENCHMARKS)"
)
def test_bird_dev_questions_mention_every_literal():
    from sqlfoundry.db.spider_tables import read_tables_json

    schemas = {s.db_id: s for s in read_tables_json(BIRD / "dev_tables.json")}
    examples = json.loads((BIRD / "dev.json").read_text(encoding="utf-8"))
    supported, problems = 0, []
    for i, ex in enumerate(examples):
        try:
            problem = _check_faithful(ex["SQL"], schemas[ex["db_id"]], STYLES[i % len(STYLES)], i)
        except UnsupportedSQL as exc:
            assert not str(exc).startswith("unexpected"), (ex["SQL"], str(exc))
            continue
        supported += 1
        if problem:
            problems.append(problem)
    print(f"\nBIRD dev: {supported}/{len(examples)} queries phrased ({supported / len(examples):.1%})")
    assert not problems, problems[:5]
    assert supported >= 0.85 * len(examples)


def test_speed(bookshop):
    """Fresh SQL every time (no parse cache hits); the target is >= 1000 questions/s on one core."""
    from sqlfoundry.sql import normalize

    sqls = [sql for sql, _ in CASES]
    n, start = 0, time.perf_counter()
    for rep in range(10):
        for i, sql in enumerate(sqls):
            fresh = f"{sql} /* {rep} */"
            realize_question(fresh, bookshop, STYLES[(rep + i) % len(STYLES)], random.Random(i))
            n += 1
    rate = n / (time.perf_counter() - start)
    normalize._parse_cached.cache_clear()
    print(f"\nrealize_question: {rate:.0f} questions/s")
    assert rate >= 250  # a loose floor for busy CI machines; see docs/synth-questions.md for measurements
