"""Email providers: one interface (`EmailProvider.send_batch`), one small class per transport."""
