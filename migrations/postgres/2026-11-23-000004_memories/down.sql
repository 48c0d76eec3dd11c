DROP TABLE perspectives;
