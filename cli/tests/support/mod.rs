pub(crate) mod fake_testrail;
