//! The file store.

/// The contract of a [`crate::media::FileStore`]: run it against each adapter.
pub async fn file_store(files: &dyn crate::media::FileStore) {
    use crate::media::FileKey;
    let key = |k: &str| FileKey::new(k).unwrap();
    let a = key("couples/c1/photos/p1/original.jpg");
    let b = key("couples/c1/photos/p1/thumb.jpg");
    let sibling = key("couples/c1/photos/p10/original.jpg");
    let other = key("couples/c2/photos/p1/original.jpg");
    assert_eq!(files.get(&a).await.unwrap(), None, "missing files are None");
    files.put(&a, b"one".to_vec()).await.unwrap();
    files.put(&a, b"two".to_vec()).await.unwrap();
    assert_eq!(
        files.get(&a).await.unwrap().as_deref(),
        Some(&b"two"[..]),
        "put replaces"
    );
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let big_key = key("couples/c1/photos/p1/medium.jpg");
    files.put(&big_key, big.clone()).await.unwrap();
    let read = files.open(&big_key).await.unwrap().expect("the file opens");
    assert_eq!(read.len, big.len() as u64);
    let mut streamed = Vec::new();
    let mut stream = read.stream;
    while let Some(chunk) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
        streamed.extend(chunk.unwrap());
    }
    assert_eq!(streamed, big, "open streams what get returns");
    assert!(files.open(&key("couples/none")).await.unwrap().is_none());
    for k in [&b, &sibling, &other] {
        files.put(k, k.as_str().as_bytes().to_vec()).await.unwrap();
    }
    files.delete(&b).await.unwrap();
    files.delete(&b).await.unwrap();
    assert_eq!(
        files.get(&b).await.unwrap(),
        None,
        "deleted, twice without error"
    );
    files
        .delete_prefix(&key("couples/c1/photos/p1"))
        .await
        .unwrap();
    assert_eq!(files.get(&a).await.unwrap(), None, "a folder goes whole");
    assert!(
        files.get(&sibling).await.unwrap().is_some(),
        "p10 is not inside p1"
    );
    files.delete_prefix(&key("couples/c1")).await.unwrap();
    files.delete_prefix(&key("couples/nothing")).await.unwrap();
    assert_eq!(files.get(&sibling).await.unwrap(), None);
    assert!(
        files.get(&other).await.unwrap().is_some(),
        "other couples are untouched"
    );
}
