DROP TABLE IF EXISTS org_invitations;
