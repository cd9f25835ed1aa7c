def test_head_logs_in_and_sees_the_register_count(client, auth, users, make_coop):
    make_coop()
    make_coop(status="dormant")
    resp = auth.login("head")
    assert resp.status_code == 302
    html = client.get("/dasbor").get_data(as_text=True)
    assert 'data-stat="total"' in html
    page = client.get("/koperasi/?status=dormant").get_data(as_text=True)
    assert 'data-count="1"' in page
